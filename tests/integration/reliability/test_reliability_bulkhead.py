"""Bulkheads: one slow backend answers its surplus 503 while another source keeps answering."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gateway.http.keys import SOURCES
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

    bulkhead = gw.server.app[SOURCES].get(slow.type).bulkhead
    slow_calls = [asyncio.create_task(get_one(gw, slow)) for _ in range(8)]
    deadline = time.monotonic() + 10  # until both of the slow source's slots are taken
    while bulkhead.in_flight < 2:
        assert time.monotonic() < deadline, "the slow calls never took their slots"
        await asyncio.sleep(0.005)
    fast_answers = await asyncio.gather(*(get_one(gw, fast) for _ in range(8)))
    # Order, not clock time: the fast source answered while the slow one's slots were held.
    assert bulkhead.in_flight == 2 and not any(t.done() and t.result()[0] == 200
                                                   for t in slow_calls)
    slow_answers = await asyncio.gather(*slow_calls)

    assert [a[0] for a in fast_answers] == [200] * 8
    statuses = sorted(a[0] for a in slow_answers)
    assert statuses == [200, 200] + [503] * 6
    slowest_refusal = max(a[3] for a in slow_answers if a[0] == 503)
    quickest_answer = min(a[3] for a in slow_answers if a[0] == 200)
    for status, body, headers, _ in slow_answers:
        if status == 503:
            assert body["error"] == "backend_unavailable" and headers["Retry-After"] == "1"
    # Refused after the queue wait, not after the slow answer.
    assert slowest_refusal < quickest_answer
