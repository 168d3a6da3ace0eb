"""Export as a stream: a client that goes away stops the backend walk, and the gateway's
memory does not grow with the number of records exported."""

from __future__ import annotations

import tracemalloc
from typing import Any

from tests.contract.harness_sugarcrm import HARNESS as SUGAR
from tests.integration.export.conftest import AUTH, ORG


def _list_calls(emulator: Any, entity: str) -> int:
    return sum(1 for c in emulator.log if entity in c.path)


async def test_a_client_that_disconnects_stops_the_walk(
    aiohttp_server: Any, make_gateway: Any
) -> None:
    h = SUGAR()
    await h.start(aiohttp_server, accounts=2000, contacts=0)
    gw = await make_gateway({h.type: h.source(per_call=20)})
    emu = h.emulator
    emu.faults.latency = 0.02  # each page takes a while: the walk is still going when we leave
    resp = await gw.get(f"/v1/records/{h.type}/{h.roles.entity}/export",
                        params={"orgId": ORG}, headers=AUTH)
    assert resp.status == 200
    await resp.content.readline()
    at_leave = _list_calls(emu, h.roles.entity)
    resp.close()  # the connection goes with it
    # The walk has 100 pages; wait (polling, no timing assert) until the gateway noticed.
    for _ in range(400):
        before = _list_calls(emu, h.roles.entity)
        if before >= 100:
            break
        await _pause()
        if _list_calls(emu, h.roles.entity) == before and await _settled(emu, h):
            break
    assert _list_calls(emu, h.roles.entity) <= at_leave + 2, "the walk went on"


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def _settled(emu: Any, h: Any) -> bool:
    """No new backend call over five latency periods: the walk is over."""
    n = _list_calls(emu, h.roles.entity)
    for _ in range(5):
        await _pause()
        if _list_calls(emu, h.roles.entity) != n:
            return False
    return True


async def test_memory_does_not_grow_with_the_records_exported(
    aiohttp_server: Any, make_gateway: Any
) -> None:
    h = SUGAR()
    await h.start(aiohttp_server, accounts=20_000, contacts=0)
    gw = await make_gateway({h.type: h.source(per_call=500)})
    data_size = sum(len(repr(r)) for r in h.records())
    tracemalloc.start()
    try:
        resp = await gw.get(f"/v1/records/{h.type}/{h.roles.entity}/export",
                            params={"orgId": ORG}, headers=AUTH)
        assert resp.status == 200
        lines, last, held = 0, b"", []
        async for line in resp.content:
            lines += 1
            last = line
            if lines % 2000 == 0:  # what is held now, past the first pages, along the stream
                held.append(tracemalloc.get_traced_memory()[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 20_001 and b'"complete":true' in last
    growth = max(held) - held[0]
    # Pages of 500 pass through: what is held does not grow with the records streamed (the
    # peak, printed, is mostly the emulator's own per-row caches built on its first calls).
    assert growth < data_size / 20, (held, data_size)
    print(f"export of 20000 records: traced peak {peak / 1e6:.1f} MB, held "
          f"{held[0] / 1e6:.1f}..{max(held) / 1e6:.1f} MB, data {data_size / 1e6:.1f} MB")


async def _export_lines(gw: Any, h: Any) -> tuple[int, bytes]:
    """Read an export line by line, keeping none: (lines, the last one)."""
    resp = await gw.get(f"/v1/records/{h.type}/{h.roles.entity}/export",
                        params={"orgId": ORG}, headers=AUTH)
    assert resp.status == 200
    lines, last = 0, b""
    async for line in resp.content:
        lines += 1
        last = line
    return lines, last
