"""The listener every `gateway serve`/`gateway demo` uses (GatewayRunner), spoken to over a raw
socket: what aiohttp's parser refuses before the app runs (a content coding it cannot inflate,
malformed or oversized headers) comes back in the error envelope, with `Server: recordgate`;
and Sugar's bookkeeping keys are neither shown nor askable, end to end against its emulator."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.sugarcrm.connector import NOISE_FIELDS
from connectors.sugarcrm.emulator import SugarEmulator
from gateway.config.load import load_config_text
from gateway.http.app import create_app
from gateway.http.protocol import MAX_FIELD_SIZE, GatewayRunner
from tests.conftest import gateway_config_text

KEY = "test-key"
QUERY = "/v1/records/crm/Accounts/query?orgId=acme"
BODY = b'{"pageSize": 1}'


@pytest.fixture
async def gateway(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> AsyncIterator[int]:
    sugar = await aiohttp_server(SugarEmulator(accounts=5, contacts=5).app)
    sources = {"crm": {
        "type": "sugarcrm", "baseUrl": str(sugar.make_url("/rest/v10")),
        "auth": {"username": "admin", "password": "admin", "clientId": "sugar"},
    }}
    app = create_app(load_config_text(gateway_config_text(sources), "test.yaml", env={}),
                     configure_logs=False)
    runner = GatewayRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` on a fresh connection: status, headers (lower-case names, repeats joined
    with a newline) and body of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        body = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}\n{value.strip()}" if key in headers else value.strip()
    return int(lines[0].split(" ", 2)[1]), headers, body


def request(method: str, target: str, headers: dict[str, str] | None = None,
            body: bytes = b"", extra: str = "") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", "Connection: close",
             f"Authorization: Bearer {KEY}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode() + body


def envelope(status: int, headers: dict[str, str], body: bytes, code: int,
             error: str) -> dict[str, Any]:
    assert status == code, body
    assert headers["content-type"].startswith("application/json")
    doc: dict[str, Any] = orjson.loads(body)
    assert doc["code"] == code and doc["error"] == error, doc
    assert doc["requestId"] == headers["x-request-id"]
    return doc


@pytest.mark.parametrize("coding", ["br", "zstd", "BR"])
async def test_codings_the_parser_cannot_inflate_are_415_in_the_envelope(
    gateway: int, coding: str,
) -> None:
    from aiohttp import compression_utils
    if (coding.lower() == "br" and compression_utils.HAS_BROTLI) or (
            coding == "zstd" and compression_utils.HAS_ZSTD):
        pytest.skip(f"{coding} is decodable here")
    status, headers, body = await exchange(
        gateway, request("POST", QUERY, {"Content-Encoding": coding}, BODY))
    doc = envelope(status, headers, body, 415, "unsupported_media_type")
    assert f"'{coding.lower()}'" in doc["msg"]
    assert headers["accept-encoding"] == "gzip, deflate, identity"
    assert headers["server"] == "recordgate"


@pytest.mark.parametrize(("coding", "data"), [
    (None, BODY), ("gzip", gzip.compress(BODY, mtime=0)), ("deflate", zlib.compress(BODY)),
    ("identity", BODY),
], ids=["none", "gzip", "deflate", "identity"])  # xdist workers must collect the same ids
async def test_supported_codings_still_work_through_the_listener(
    gateway: int, coding: str | None, data: bytes,
) -> None:
    status, headers, body = await exchange(
        gateway, request("POST", QUERY, {"Content-Encoding": coding} if coding else {}, data))
    assert status == 200, body
    assert len(orjson.loads(body)["data"]) == 1
    assert headers["server"] == "recordgate"


@pytest.mark.parametrize("raw", [
    b"GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Long: " + b"a" * (MAX_FIELD_SIZE + 10) + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n",
])
async def test_the_parsers_refusals_are_envelopes_without_a_version_banner(
    gateway: int, raw: bytes,
) -> None:
    status, headers, body = await exchange(gateway, raw)
    envelope(status, headers, body, 400, "invalid_request")
    assert headers["server"] == "recordgate"
    assert "aiohttp" not in body.decode() and "Python" not in body.decode()
    # The server keeps serving.
    status, headers, body = await exchange(gateway, request("GET", "/healthz"))
    assert status == 200 and headers["server"] == "recordgate"


@pytest.mark.parametrize("target", [
    "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/docs.css",
    QUERY.replace("/query", ""), "/v1/records/crm/Accounts/nope-nope?orgId=acme",
    "/v1/nowhere?orgId=acme",
])
async def test_every_answer_says_recordgate_and_nothing_more(gateway: int, target: str) -> None:
    _, headers, _ = await exchange(gateway, request("GET", target))
    assert headers["server"] == "recordgate"


async def test_an_unknown_key_with_br_is_still_refused_in_the_envelope(gateway: int) -> None:
    raw = request("POST", QUERY, {"Content-Encoding": "br"}, BODY).replace(
        f"Bearer {KEY}".encode(), b"Bearer nobody")
    status, headers, body = await exchange(gateway, raw)
    # The parser refuses before any key is looked up; still no key is accepted this way.
    assert status in (401, 415)
    envelope(status, headers, body, status, "unauthorized" if status == 401
             else "unsupported_media_type")


# -- Sugar's bookkeeping keys: README and behaviour agree ------------------------------------

async def test_sugar_bookkeeping_keys_are_never_shown(gateway: int) -> None:
    status, _, body = await exchange(gateway, request("POST", QUERY, body=b'{"pageSize": 5}'))
    assert status == 200, body
    for record in orjson.loads(body)["data"]:
        assert not NOISE_FIELDS & set(record), record
        assert "date_modified" in record  # an ordinary field, the lock's version


@pytest.mark.parametrize("field", sorted(NOISE_FIELDS))
async def test_asking_for_a_sugar_bookkeeping_key_is_a_400_naming_it(
    gateway: int, field: str,
) -> None:
    payload = orjson.dumps({"fields": f"name,{field}", "pageSize": 1})
    status, headers, body = await exchange(gateway, request("POST", QUERY, body=payload))
    doc = envelope(status, headers, body, 400, "invalid_request")
    assert field in orjson.dumps(doc).decode()
    listed = await exchange(gateway, request("GET", "/v1/sources/crm/entities?orgId=acme"))
    assert field not in listed[2].decode()  # discovery does not offer it either
