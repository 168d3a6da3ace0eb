"""The load run in small, for the suite: 200 concurrent queries on the demo, one backend slowed.

Only the designed statuses come back (200, or 429/503/504 for the slow source), and the fast
sources keep answering while the slow one is flooded. The full run is ``python -m tests.load.run``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from gateway.demo import DemoHandle, start_demo
from tests.load.loadgen import DESIGNED, ENTITIES, Burst, emulator_faults, fire

SOURCES = list(ENTITIES)
SLOW, FAST = "sugarcrm", ["slingr", "dataservice"]
LATENCY = 2.0  # seconds the slow emulator waits before each answer


@pytest.fixture
async def demo() -> AsyncIterator[DemoHandle]:
    handle = await start_demo("127.0.0.1", 0)
    try:
        yield handle
    finally:
        await handle.close()


async def _timed(coro: Coroutine[Any, Any, Burst]) -> tuple[Burst, float]:
    """The burst and the moment its last answer arrived."""
    burst = await coro
    return burst, time.monotonic()


async def test_200_concurrent_with_one_backend_slowed(demo: DemoHandle) -> None:
    warm = await fire(demo.url, SOURCES, 6)  # tokens and metadata, before the clock matters
    assert warm.statuses() == {200: 6}
    emulator_faults(demo, SLOW).latency = LATENCY

    flood = asyncio.ensure_future(_timed(fire(demo.url, SOURCES, 200)))
    await asyncio.sleep(0.1)  # the flood is in: the slow source's calls are waiting
    probe, probe_done = await _timed(fire(demo.url, FAST, 20))
    burst, flood_done = await flood

    assert not burst.undesigned(), [(r.source, r.status, r.error) for r in burst.undesigned()]
    assert set(burst.statuses(SLOW)) <= DESIGNED
    for source in FAST:
        assert burst.statuses(source) == {200: len([r for r in burst.results
                                                    if r.source == source])}
    # The fast sources answered (all 200) while calls to the slow one were still waiting.
    assert probe.statuses() == {200: 20}
    assert probe_done < flood_done
    assert max(r.seconds for r in burst.results if r.source == SLOW) >= LATENCY * 0.9

    emulator_faults(demo, SLOW).latency = 0
    after = await fire(demo.url, SOURCES, 30)  # and the gateway is still whole afterwards
    assert not after.undesigned() and after.statuses(FAST[0]) == {200: 10}
