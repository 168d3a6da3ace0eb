"""Bulkhead: bounded calls in flight, bounded wait for a slot (clipped to the deadline)."""

import asyncio
import time

import pytest

from gateway.errors import BackendUnavailable
from gateway.observability.metrics import Metrics
from gateway.upstream import deadline
from gateway.upstream.bulkhead import Bulkhead


def sample(metrics, name):
    return metrics.registry.get_sample_value(name, {"source": "slow"})


async def test_the_surplus_waits_then_gets_503_with_retry_after_1():
    metrics = Metrics()
    bh = Bulkhead("slow", max_in_flight=2, queue_timeout=0.05, metrics=metrics)
    release = asyncio.Event()

    async def hold():
        async with bh:
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.sleep(0)
    assert sample(metrics, "gateway_bulkhead_in_flight") == 2
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        await bh.acquire()
    assert 0.04 < time.monotonic() - started < 0.5
    assert info.value.retry_after == 1 and info.value.sent is False
    assert sample(metrics, "gateway_bulkhead_rejected_total") == 1
    release.set()
    await asyncio.gather(*holders)
    assert sample(metrics, "gateway_bulkhead_in_flight") == 0


async def test_a_waiter_gets_the_slot_when_one_frees_in_time():
    bh = Bulkhead("slow", max_in_flight=1, queue_timeout=1)
    await bh.acquire()
    asyncio.get_running_loop().call_later(0.02, bh.release)
    await bh.acquire()
    assert bh.in_flight == 1


async def test_the_wait_is_clipped_to_the_request_deadline():
    bh = Bulkhead("slow", max_in_flight=1, queue_timeout=30)
    await bh.acquire()
    token = deadline.start(0.05)
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await bh.acquire()
        assert time.monotonic() - started < 1
    finally:
        deadline.end(token)
