"""Bulkheads: one slow backend answers its surplus 503 while another source keeps answering."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.contract.backends import HARNESSES
from tests.integration.reliability.conftest import get_one

TYPES = sorted(HARNESSES)


@pytest.mark.parametrize("slow_type", TYPES)
async def test_a_slow_source_cannot_starve_the_others(
    slow_type: str, aiohttp_server: Any, make_gateway: Any
):
    fast_type = TYPES[(TYPES.index(slow_type) + 1) % len(TYPES)]
    slow, fast = HARNESSES[slow_type](), HARNESSES[fast_type]()
    await slow.start(aiohttp_server)
    await fast.start(aiohttp_server)
    gw = await make_gateway({
        # One consumer here: its share is the whole bulkhead, so the source's bound is what sheds
        # (test_reliability_fairness.py covers consumers held to their share).
        slow.type: slow.source(maxInFlight=2, maxInFlightPerConsumer=2, queueTimeout=0.1,
                               retries=0),
        fast.type: fast.source(maxInFlight=2, maxInFlightPerConsumer=2, queueTimeout=1),
    })
    await get_one(gw, slow), await get_one(gw, fast)
    slow.emulator.faults.latency = 0.6

    started = time.monotonic()
    slow_calls = [asyncio.create_task(get_one(gw, slow)) for _ in range(8)]
    await asyncio.sleep(0.05)
    fast_answers = await asyncio.gather(*(get_one(gw, fast) for _ in range(8)))
    fast_done = time.monotonic() - started
    slow_answers = await asyncio.gather(*slow_calls)

    assert [a[0] for a in fast_answers] == [200] * 8 and fast_done < 0.5
    statuses = sorted(a[0] for a in slow_answers)
    assert statuses == [200, 200] + [503] * 6
    for status, body, headers, took in slow_answers:
        if status == 503:
            assert body["error"] == "backend_unavailable" and headers["Retry-After"] == "1"
            assert took < 0.4  # refused after the queue wait, not after the slow answer
