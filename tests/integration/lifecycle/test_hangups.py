"""Consumers that hang up, and bulk calls that run out of time, over real sockets.

Issue 16, repros 5 and 8: an abandoned full scan ran to its 60 s deadline making backend calls;
after a bulk call's deadline, entries never sent answered 504 like the one in flight. Now a read
stops when its consumer goes, a write already sent finishes and is recorded, a bulk call starts
no entry after the hang-up or the deadline, and those entries answer 424 ``not_executed``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from gateway.http.keys import SOURCES
from tests.contract.backends import HARNESSES
from tests.integration.lifecycle.served import Served, eventually, serve_gateway

ORG = "acme"
AUTH = "Authorization: Bearer test-key"
LIST = "/dev/runtime/api/data/companies"  # Slingr's list and create path (GET / POST)


async def _slingr(aiohttp_server: Any) -> Any:
    h = HARNESSES["slingr"]()
    await h.start(aiohttp_server)
    return h


def _calls(h: Any, method: str) -> int:
    return sum(1 for c in h.emulator.log if c.path == LIST and c.method == method)


def _raw(method: str, target: str, body: Any, *headers: str) -> bytes:
    data = orjson.dumps(body)
    head = [f"{method} {target} HTTP/1.1", "Host: t", AUTH, "Content-Type: application/json",
            f"Content-Length: {len(data)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


async def _warm(gw: Served) -> None:
    """One read first, so the login is done and the next backend call is the write itself."""
    async with aiohttp.ClientSession() as s, s.get(
        f"{gw.url}/v1/records/slingr/companies", params={"orgId": ORG, "pageSize": "1"},
        headers={"Authorization": "Bearer test-key"},
    ) as resp:
        assert resp.status == 200


def _calling(gw: Served) -> Any:
    """Whether a backend call of the Slingr source is in flight (the emulator logs a call only
    once it has ended, too late to hang up during it)."""
    bulkhead = gw.app[SOURCES].get("slingr").bulkhead
    return lambda: bulkhead.in_flight >= 1


async def _send_then_hang_up(gw: Served, raw: bytes, until: Any, what: str) -> None:
    """Send ``raw``, wait until ``until()`` holds (the backend saw the work), then hang up."""
    _, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(raw)
    await writer.drain()
    try:
        await eventually(until, 10, what)
    finally:
        writer.transport.abort()


async def _quiet(count: Any, *, still: float, within: float) -> int:
    """``count()`` once it has not changed for ``still`` seconds (fails after ``within``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last, since = count(), loop.time()
    while loop.time() - since < still:
        assert loop.time() < deadline, "the backend calls never stopped"
        await asyncio.sleep(0.05)
        now = count()
        if now != last:
            last, since = now, loop.time()
    return int(last)


async def test_an_abandoned_scan_stops_calling_the_backend(aiohttp_server: Any) -> None:
    h = await _slingr(aiohttp_server)
    h.emulator.faults.latency = 0.2  # 25 pages of 10: a 5 s walk, if nobody stopped it
    async with serve_gateway({"slingr": h.source(per_call=10)}) as gw:
        # An OR across two fields: Slingr cannot, so the gateway walks every record.
        flt = [[{"field": "name", "operator": "==", "value": "nobody"}],
               [{"field": "type", "operator": "==", "value": "nothing"}]]
        raw = _raw("POST", f"/v1/records/slingr/companies/query?orgId={ORG}",
                   {"filter": flt, "pageSize": 10})
        await _send_then_hang_up(gw, raw, lambda: _calls(h, "GET") >= 2, "the scan started")
        await eventually(lambda: gw.in_flight() == 0, 10, "the abandoned scan ended")
        # The emulator logs a call when it ends, so calls in flight at the hang-up show up a
        # little later: wait until the log has been still for a while.
        settled = await _quiet(lambda: _calls(h, "GET"), still=0.6, within=10)
        await asyncio.sleep(1.0)  # five more pages' worth: a walk still going would show
        assert _calls(h, "GET") == settled, "the scan kept calling after its consumer left"
        assert settled <= 15  # a walk nobody stopped makes 26


async def test_a_create_outlives_its_consumer_and_its_answer_is_kept(aiohttp_server: Any) -> None:
    h = await _slingr(aiohttp_server)
    before = len(h.records())
    async with serve_gateway({"slingr": h.source()}) as gw:
        await _warm(gw)
        h.emulator.faults.latency = 0.5
        raw = _raw("POST", f"/v1/records/slingr/companies?orgId={ORG}", h.roles.writable,
                   "Idempotency-Key: create-then-hang-up")
        await _send_then_hang_up(gw, raw, _calling(gw), "create sent")
        await eventually(lambda: gw.in_flight() == 0, 5, "the create finished")
        h.emulator.faults.latency = 0
        assert len(h.records()) == before + 1
        async with aiohttp.ClientSession() as s, s.post(
            f"{gw.url}/v1/records/slingr/companies", params={"orgId": ORG},
            data=orjson.dumps(h.roles.writable), headers={  # the same bytes as the first time
                "Authorization": "Bearer test-key", "Content-Type": "application/json",
                "Idempotency-Key": "create-then-hang-up"},
        ) as resp:
            assert resp.status == 201, await resp.text()
            assert resp.headers["Idempotent-Replayed"] == "true"
        assert len(h.records()) == before + 1 and _calls(h, "POST") == 1


def _creates(h: Any, n: int) -> dict[str, Any]:
    return {"requests": [
        {"method": "POST", "url": f"/v1/records/slingr/companies?orgId={ORG}",
         "data": {**h.roles.writable, "name": f"Bulk {i}"}} for i in range(n)]}


def _statuses(answer: Any) -> list[int]:
    return [entry["status"] for entry in answer]


def _stopped(entry: Any) -> bool:
    return entry["status"] == 424 and entry["contents"]["error"] == "not_executed" \
        and "stopped before this entry was sent" in entry["contents"]["msg"]


async def test_a_bulk_call_starts_no_entry_after_its_consumer_hung_up(
    aiohttp_server: Any
) -> None:
    h = await _slingr(aiohttp_server)
    before = len(h.records())
    async with serve_gateway({"slingr": h.source()}) as gw:
        await _warm(gw)
        h.emulator.faults.latency = 0.5
        raw = _raw("POST", f"/v1/bulk?orgId={ORG}", _creates(h, 6),
                   "Idempotency-Key: bulk-then-hang-up")
        await _send_then_hang_up(gw, raw, _calling(gw), "first create sent")
        await eventually(lambda: gw.in_flight() == 0, 5, "the bulk call ended")
        h.emulator.faults.latency = 0
        created = len(h.records()) - before
        assert created == 1 and _calls(h, "POST") == 1  # the create in flight, no other
        async with aiohttp.ClientSession() as s, s.post(
            f"{gw.url}/v1/bulk", params={"orgId": ORG}, data=orjson.dumps(_creates(h, 6)),
            headers={"Authorization": "Bearer test-key", "Content-Type": "application/json",
                     "Idempotency-Key": "bulk-then-hang-up"},
        ) as resp:
            answer = await resp.json()
            assert resp.status == 200 and resp.headers["Idempotent-Replayed"] == "true"
        assert _statuses(answer) == [201] * created + [424] * (6 - created)
        assert all(_stopped(e) for e in answer[created:])
        assert len(h.records()) - before == created


async def test_bulk_entries_never_sent_before_the_deadline_answer_424(
    aiohttp_server: Any
) -> None:
    h = await _slingr(aiohttp_server)
    before = len(h.records())
    h.emulator.faults.latency = 0.4
    async with serve_gateway({"slingr": h.source()}, server={"requestTimeout": 1.0}) as gw:
        async with aiohttp.ClientSession() as s, s.post(
            f"{gw.url}/v1/bulk", params={"orgId": ORG}, json=_creates(h, 8),
            headers={"Authorization": "Bearer test-key"},
        ) as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
    statuses = _statuses(answer)
    done, unknown = statuses.count(201), statuses.count(504)
    # Past the deadline: at most the entry in flight is unknown (504); none never sent is.
    assert done >= 1 and unknown <= 1 and statuses[:done] == [201] * done
    assert statuses[done + unknown:] and all(_stopped(e) for e in answer[done + unknown:])
    assert _calls(h, "POST") == done + unknown  # the 424s never reached the backend
    assert done <= len(h.records()) - before <= done + unknown
