"""Fairness between tenants, on every emulator over loopback (issue 9, item 4).

- An upload the consumer aborts, or that the gateway refuses with 413 while it arrives, and a
  download the consumer hangs up on, are not backend failures: the breaker (opening after one
  failure here) stays closed and the source's health is not ``down``.
- An upload that stalls is cut after ``server.uploadIdleTimeout`` with a 400 envelope, its
  backend call aborted and its slot freed; meanwhile it held only its consumer's share.
- A consumer flooding a slow source holds at most ``maxInFlightPerConsumer`` slots: its surplus
  is refused 429 while a second consumer still gets 200.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiohttp.typedefs import Handler

from gateway.http.keys import METRICS, SOURCES
from tests.contract.backends import HARNESSES, Harness
from tests.integration.reliability.conftest import AUTH, ORG, get_one

OTHER_KEY = "other-key"
CONSUMERS = [
    {"name": "tester", "apiKey": "test-key", "orgs": [ORG]},
    {"name": "other", "apiKey": OTHER_KEY, "orgs": [ORG]},
]
LIMIT = 50_000  # server.maxBodyBytes where a test needs to cross it


class Arriving:
    """Uploads (POST or PUT) the emulator has started to receive and not yet answered: the
    witness that an upload is on its way to the backend, whatever calls precede it."""

    def __init__(self) -> None:
        self.uploads = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        upload = request.method in ("POST", "PUT")
        self.uploads += upload
        try:
            return await handler(request)
        finally:
            self.uploads -= upload


@pytest.fixture(params=sorted(HARNESSES))
async def h(request: pytest.FixtureRequest, aiohttp_server: Any) -> Harness:
    """A started harness with a file field, its emulator watched by an :class:`Arriving`."""
    harness = HARNESSES[request.param]()
    arriving = Arriving()

    async def serve(app: web.Application) -> Any:
        app.middlewares.insert(0, arriving.middleware)  # outermost; the app is not frozen yet
        return await aiohttp_server(app)

    await harness.start(serve)
    harness.arriving = arriving  # type: ignore[attr-defined]
    return harness


def arriving(h: Harness) -> int:
    return h.arriving.uploads  # type: ignore[attr-defined, no-any-return]


async def eventually(check: Callable[[], bool], what: str, within: float = 10.0) -> None:
    """Poll ``check`` until it holds, failing with ``what`` after ``within`` seconds."""
    until = time.monotonic() + within
    while not check():
        assert time.monotonic() < until, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def sample_sum(gw: TestClient, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for family in gw.app[METRICS].registry.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def file_answers(gw: TestClient) -> float:
    """File uploads the gateway has answered (whatever the status)."""
    return sum(
        s.value for family in gw.app[METRICS].registry.collect() for s in family.samples
        if s.name == "gateway_requests_total" and s.labels.get("method") == "PUT"
        and "/files/" in s.labels.get("route", "")
    )


async def gateway(make_gateway: Any, h: Harness, *, server: dict[str, Any] | None = None,
                  **source_kw: Any) -> TestClient:
    """One source on ``h`` whose breaker opens on the first failed call."""
    return await make_gateway(
        {h.type: h.source(retries=0, breaker={"failures": 1, "openSeconds": 60}, **source_kw)},
        server=server, consumers=CONSUMERS,
    )


async def file_path(gw: TestClient, h: Harness) -> str:
    """The files URL of the first record of the harness's file entity (warms token, metadata)."""
    assert h.roles.file_entity is not None and h.roles.file_field is not None
    resp = await gw.get(f"/v1/records/{h.type}/{h.roles.file_entity}",
                        params={"orgId": ORG, "pageSize": "1"}, headers=AUTH)
    body = await resp.json()
    assert resp.status == 200, body
    rid = body["data"][0]["id"]
    return f"/v1/records/{h.type}/{h.roles.file_entity}/{rid}/files/{h.roles.file_field}"


async def assert_source_unharmed(gw: TestClient, h: Harness) -> None:
    """Breaker closed, health not down, and a read still goes through."""
    assert gw.app[SOURCES].get(h.type).breaker.state == "closed"
    assert sample_sum(gw, "gateway_breaker_opened_total") == 0
    resp = await gw.get("/v1/sources", params={"orgId": ORG}, headers=AUTH)
    listed = {s["name"]: s for s in (await resp.json())["data"]}
    assert listed[h.type]["health"] != "down", listed
    status, body, _, _ = await get_one(gw, h)
    assert status == 200, body


async def raw_put(gw: TestClient, path: str, *, send: bytes, announce: int,
                  content_type: str = "image/png"
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A PUT over a bare socket that announces ``announce`` bytes and sends ``send``."""
    assert gw.server.host is not None and gw.server.port is not None
    reader, writer = await asyncio.open_connection(gw.server.host, gw.server.port)
    writer.write(
        f"PUT {path}?orgId={ORG} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer test-key\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {announce}\r\n\r\n".encode() + send
    )
    await writer.drain()
    return reader, writer


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one HTTP/1.1 answer on a bare socket."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = (line.partition(":") for line in head[1:] if line)
    headers = {k.lower(): v.strip() for k, _, v in fields}
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, json.loads(body)


# -- consumer-side failures are not backend failures ---------------------------------------------


async def test_uploads_refused_413_while_arriving_leave_the_source_unharmed(
    h: Harness, make_gateway: Any
) -> None:
    gw = await gateway(make_gateway, h, server={"maxBodyBytes": LIMIT})
    path = await file_path(gw, h)

    async def too_much() -> AsyncIterator[bytes]:
        for _ in range(LIMIT // 10_000 + 3):
            yield b"\x89PNG" + b"x" * 9_996

    for _ in range(3):  # chunked: no Content-Length, so the limit is found while streaming
        resp = await gw.put(path, params={"orgId": ORG}, data=too_much(),
                            headers={**AUTH, "Content-Type": "image/png"})
        body = await resp.json()
        assert resp.status == 413 and body["error"] == "payload_too_large", body
    # The uploads did reach the backend before the gateway cut them: the path under test ran.
    assert sample_sum(gw, "gateway_backend_requests_total", status="consumer_aborted") == 3
    # A declared length over the limit is refused before any backend call.
    resp = await gw.put(path, params={"orgId": ORG}, data=b"x" * (LIMIT + 1),
                        headers={**AUTH, "Content-Type": "image/png"})
    assert resp.status == 413
    assert sample_sum(gw, "gateway_backend_requests_total", status="consumer_aborted") == 3
    await assert_source_unharmed(gw, h)


# A multipart body whose file part never gets its closing boundary: the consumer's client cut it.
CUT_FORM = (b'--cut\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n\x89PNG" + b"x" * 20_000)


@pytest.mark.parametrize("how", ["hang_up", "cut_multipart"])
async def test_uploads_the_consumer_aborts_leave_the_source_unharmed(
    h: Harness, make_gateway: Any, how: str
) -> None:
    gw = await gateway(make_gateway, h)
    path = await file_path(gw, h)

    for n in range(1, 4):
        if how == "hang_up":  # mid-upload, once it flows to the backend: nobody left to answer
            _, writer = await raw_put(gw, path, announce=100_000, send=b"\x89PNG\r")
            await eventually(lambda: arriving(h) == 1, "the upload to reach the backend")
            writer.close()
            await writer.wait_closed()
        else:  # the HTTP body is whole, the file in it is not: the consumer reads the answer
            reader, writer = await raw_put(gw, path, announce=len(CUT_FORM), send=CUT_FORM,
                                           content_type="multipart/form-data; boundary=cut")
            status, _, body = await asyncio.wait_for(read_answer(reader), 10)
            assert status == 400 and body["details"][0]["path"] == "body", body
            writer.close()
        await eventually(lambda n=n: file_answers(gw) == n, "the gateway to end the upload")
        await eventually(lambda: gw.app[SOURCES].get(h.type).bulkhead.in_flight == 0,
                         "the upload's slot to be released")
        await eventually(lambda: arriving(h) == 0, "the backend call to be aborted")
    assert sample_sum(gw, "gateway_backend_requests_total", status="consumer_aborted") == 3
    await assert_source_unharmed(gw, h)


async def test_downloads_the_consumer_hangs_up_on_leave_the_source_unharmed(
    h: Harness, make_gateway: Any
) -> None:
    gw = await gateway(make_gateway, h)
    path = await file_path(gw, h)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (3 * 4096)  # 3 MB and a bit
    resp = await gw.put(path, params={"orgId": ORG, "filename": "big.png"}, data=data,
                        headers={**AUTH, "Content-Type": "image/png"})
    assert resp.status == 200, await resp.text()

    def downloads() -> float:
        return sample_sum(gw, "gateway_requests_total", method="GET",
                          route="/v1/records/{source}/{entity}/{id}/files/{field}")

    for n in range(1, 4):
        assert gw.server.host is not None and gw.server.port is not None
        reader, writer = await asyncio.open_connection(gw.server.host, gw.server.port)
        writer.write(f"GET {path}?orgId={ORG} HTTP/1.1\r\nHost: test\r\n"
                     "Authorization: Bearer test-key\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200"), head
        await reader.readexactly(1000)  # a little of the file, then hang up
        writer.close()
        await eventually(lambda n=n: downloads() == n, "the gateway to end the download")
    await eventually(lambda: gw.app[SOURCES].get(h.type).bulkhead.in_flight == 0,
                     "the downloads' slots to be released")
    await assert_source_unharmed(gw, h)


# -- idle uploads ---------------------------------------------------------------------------------


async def test_stalled_uploads_hold_only_their_share_and_are_cut_after_the_idle_timeout(
    h: Harness, make_gateway: Any
) -> None:
    idle = 0.5
    gw = await gateway(make_gateway, h, server={"uploadIdleTimeout": idle},
                       maxInFlight=4, queueTimeout=0.1)  # the share: 2 slots per consumer
    path = await file_path(gw, h)
    bulkhead = gw.app[SOURCES].get(h.type).bulkhead

    started = time.monotonic()
    stalled = [await raw_put(gw, path, announce=100_000, send=b"\x89PNG\r") for _ in range(2)]
    await eventually(lambda: arriving(h) == 2, "both uploads to reach the backend")
    assert bulkhead.held.get("tester") == 2

    # The stalling consumer's share is full: its next call is refused, naming the limit...
    status, body, headers, _ = await get_one(gw, h)
    assert status == 429 and body["error"] == "rate_limited", body
    assert "maxInFlightPerConsumer" in body["msg"] and headers["Retry-After"] == "1"
    # ...while another consumer still gets through.
    record_id = h.records()[0]["id"]
    resp = await gw.get(f"/v1/records/{h.type}/{h.roles.entity}/{record_id}",
                        params={"orgId": ORG}, headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert resp.status == 200, await resp.text()

    for reader, writer in stalled:
        status, _, body = await asyncio.wait_for(read_answer(reader), 10)
        took = time.monotonic() - started
        assert status == 400 and body["error"] == "invalid_request", body
        assert body["details"][0]["path"] == "body"
        assert f"{idle:g} seconds" in body["msg"] and "abandoned" in body["msg"]
        assert idle * 0.9 <= took < idle + 5
        writer.close()
    await eventually(lambda: bulkhead.in_flight == 0, "the stalled uploads' slots to be released")
    await eventually(lambda: arriving(h) == 0, "the backend calls to be aborted")
    assert sample_sum(gw, "gateway_backend_requests_total", status="consumer_aborted") == 2
    await assert_source_unharmed(gw, h)


# -- each consumer to its share -------------------------------------------------------------------


async def test_a_consumer_flooding_a_slow_source_cannot_take_the_others_slots(
    h: Harness, make_gateway: Any
) -> None:
    gw = await gateway(make_gateway, h, maxInFlight=4, maxInFlightPerConsumer=2,
                       queueTimeout=0.2)
    await get_one(gw, h)  # token and metadata before the clock matters
    bulkhead = gw.app[SOURCES].get(h.type).bulkhead
    h.emulator.faults.latency = 0.8
    record_id = h.records()[0]["id"]

    def read_as(key: str) -> Awaitable[Any]:
        return gw.get(f"/v1/records/{h.type}/{h.roles.entity}/{record_id}",
                      params={"orgId": ORG}, headers={"Authorization": f"Bearer {key}"})

    flood = [asyncio.create_task(read_as("test-key")) for _ in range(6)]
    await eventually(lambda: bulkhead.held.get("tester") == 2, "the flood to fill its share")
    others = await asyncio.gather(*(read_as(OTHER_KEY) for _ in range(2)))
    flooded = await asyncio.gather(*flood)

    assert [r.status for r in others] == [200, 200]
    assert sorted(r.status for r in flooded) == [200, 200, 429, 429, 429, 429]
    for resp in flooded:
        if resp.status == 429:
            body = await resp.json()
            assert body["error"] == "rate_limited" and resp.headers["Retry-After"] == "1"
            assert "maxInFlightPerConsumer" in body["msg"] and body["source"]["name"] == h.type
    assert bulkhead.in_flight == 0 and bulkhead.held == {"tester": 0, "other": 0}
    h.emulator.faults.latency = 0
    await assert_source_unharmed(gw, h)
