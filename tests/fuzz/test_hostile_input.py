"""Hostile input over a real socket: endless chunked bodies, 100 KB URLs and headers, deep JSON.

Each is refused with a 4xx (never a 500), the server stops reading what it refused, and the
next request on a fresh connection is answered as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestServer

from connectors.sugarcrm.emulator import SugarEmulator
from gateway.config.load import load_config_text
from gateway.http.app import create_app
from gateway.http.protocol import HANDLER_ARGS, LINGERING_TIME, MAX_FIELD_SIZE, MAX_LINE_SIZE
from tests.conftest import gateway_config_text

LIMIT = 64 * 1024  # server.maxBodyBytes in these tests
KEY = "test-key"
QUERY = "/v1/records/crm/Accounts/query?orgId=acme"


@pytest.fixture
async def server(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    sugar = await aiohttp_server(SugarEmulator(accounts=5, contacts=5).app)
    sources = {"crm": {
        "type": "sugarcrm", "baseUrl": str(sugar.make_url("/rest/v10")),
        "auth": {"username": "admin", "password": "admin", "clientId": "sugar"},
    }}
    text = gateway_config_text(sources, server={"maxBodyBytes": LIMIT})
    app = create_app(load_config_text(text, "test.yaml", env={}), configure_logs=False)
    # The same parser bounds `gateway serve` and `gateway demo` listen with.
    return await aiohttp_server(app, **HANDLER_ARGS)


async def exchange(server: TestServer, raw: bytes) -> tuple[int, bytes]:
    """Send ``raw`` on a fresh connection; the status and body of the answer."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(raw)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        body = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    return int(head.split(b" ", 2)[1]), body


def request(method: str, target: str, headers: dict[str, str] | None = None,
            body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", "Connection: close",
             f"Authorization: Bearer {KEY}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def still_up(server: TestServer) -> None:
    status, body = await exchange(server, request("GET", "/healthz"))
    assert status == 200 and orjson.loads(body) == {"status": "ok"}


async def test_endless_chunked_body_is_413_and_the_server_stops_reading(
    server: TestServer,
) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = request("POST", QUERY, {"Content-Type": "application/json",
                                   "Transfer-Encoding": "chunked"}).replace(
        b"Connection: close\r\n", b"")
    writer.write(head)
    chunk = b" " * 65_536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    answered_after: int | None = None
    answered_at = 0.0

    async def read_answer() -> bytes:
        return await reader.readuntil(b"\r\n\r\n")

    answer = asyncio.ensure_future(read_answer())
    started = time.monotonic()
    closed = False
    try:
        # A hostile client never ends its body (bounded here at 30 s; loopback moves GB/s).
        while time.monotonic() - started < 30:
            writer.write(frame)
            await writer.drain()
            sent += len(frame)
            if answered_after is None and answer.done():
                answered_after, answered_at = sent, time.monotonic()
    except ConnectionError:
        closed = True
    finally:
        writer.close()
    status_line = (await answer).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413 "), status_line
    assert closed, "the server kept reading an endless body"
    assert answered_after is not None, "the connection closed before the answer was read"
    # Answered while the body was still coming: what was sent by then is the limit plus what
    # the loopback socket buffers hold, nowhere near the whole body.
    assert answered_after < 64 * 1024 * 1024
    # After answering it reads (and drops) for at most the lingering time, then hangs up.
    assert time.monotonic() - answered_at < LINGERING_TIME + 3
    await still_up(server)


async def test_declared_length_over_the_limit_is_413_before_reading(server: TestServer) -> None:
    raw = request("POST", QUERY).replace(
        b"\r\n\r\n", f"\r\nContent-Length: {100 * LIMIT}\r\n\r\n".encode())
    status, body = await exchange(server, raw + b"{")  # the body never comes; no wait for it
    assert status == 413 and orjson.loads(body)["error"] == "payload_too_large"


@pytest.mark.parametrize("size", [MAX_LINE_SIZE + 1, 100_000])
async def test_long_url_is_400_not_500(server: TestServer, size: int) -> None:
    target = QUERY + "&x=" + "a" * size
    status, _ = await exchange(server, request("GET", target))
    assert 400 <= status < 500
    await still_up(server)


@pytest.mark.parametrize(("name", "size"), [
    ("X-Padding", MAX_FIELD_SIZE + 1), ("X-Padding", 100_000), ("Authorization", 100_000),
])
async def test_long_header_is_400_not_500(server: TestServer, name: str, size: int) -> None:
    status, _ = await exchange(server, request("GET", "/v1/sources?orgId=acme",
                                               {name: "b" * size}))
    assert 400 <= status < 500
    await still_up(server)


async def test_too_many_headers_is_400(server: TestServer) -> None:
    headers = {f"X-H{i}": "1" for i in range(HANDLER_ARGS["max_headers"] + 1)}
    status, _ = await exchange(server, request("GET", "/healthz", headers))
    assert status == 400
    await still_up(server)


async def test_a_long_get_filter_within_the_line_bound_is_parsed(server: TestServer) -> None:
    """The raised line bound is for real GET queries: 16 KB of filter reaches the parser (and
    here is refused by it with a path, as that many groups are over the bound)."""
    groups = [[{"field": "name", "operator": "==", "value": f"v{i}"}] for i in range(200)]
    text = quote(orjson.dumps(groups).decode())
    assert 16_000 < len(text) < MAX_LINE_SIZE - 200
    status, body = await exchange(server, request(
        "GET", "/v1/records/crm/Accounts?orgId=acme&filter=" + text))
    assert status == 400
    doc: dict[str, Any] = orjson.loads(body)
    assert doc["error"] == "invalid_filter" and doc["details"][0]["path"] == "filter"


@pytest.mark.parametrize("path", [
    QUERY, "/v1/records/crm/Accounts?orgId=acme", "/v1/records/crm/Accounts/1?orgId=acme",
    "/v1/bulk?orgId=acme",
])
async def test_deep_json_bodies_are_400(server: TestServer, path: str) -> None:
    deep = b'{"requests": ' + b"[" * 300 + b"]" * 300 + b"}"
    method = "PATCH" if path.endswith("/1?orgId=acme") else "POST"
    status, body = await exchange(server, request(method, path, body=deep))
    doc = orjson.loads(body)
    assert status == 400 and doc["details"][0] == {
        "path": "body", "msg": "Lists and objects nest deeper than 64 levels"}
