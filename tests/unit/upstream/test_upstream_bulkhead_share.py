"""Bulkhead shares: each consumer holds at most its share of a source's slots (429 beyond)."""

import asyncio
import contextlib
import time

import pytest

from gateway.errors import BackendUnavailable, RateLimited
from gateway.upstream import deadline
from gateway.upstream.bulkhead import Bulkhead
from gateway.upstream.context import CONSUMER


@contextlib.contextmanager
def calling_as(name):
    token = CONSUMER.set(name)
    try:
        yield
    finally:
        CONSUMER.reset(token)


async def test_a_consumer_past_its_share_waits_then_gets_429_while_others_get_slots():
    bh = Bulkhead("src", max_in_flight=4, max_per_consumer=2, queue_timeout=0.05)
    with calling_as("greedy"):
        held = [await bh.acquire(), await bh.acquire()]
        started = time.monotonic()
        with pytest.raises(RateLimited) as info:
            await bh.acquire()
    assert 0.04 < time.monotonic() - started < 0.5
    err = info.value
    assert err.status == 429 and err.retry_after == 1 and err.key == "consumer_share_full"
    assert err.msg == ("src: this API key already has 2 calls in flight to the backend, its share "
                       "of the source (maxInFlightPerConsumer); try again shortly")
    assert (err.params["source"], err.params["limit"]) == ("src", 2)
    assert held == ["greedy", "greedy"] and bh.in_flight == 2 and bh.held == {"greedy": 2}
    with calling_as("polite"):
        assert await bh.acquire() == "polite"
        assert await bh.acquire() == "polite"
    assert bh.in_flight == 4
    # The source is full now: anyone past it gets the source's own 503, not a share's 429.
    with calling_as("third"), pytest.raises(BackendUnavailable):
        await bh.acquire()
    assert bh.held == {"greedy": 2, "polite": 2}
    bh.release("greedy")
    bh.release("greedy")
    with calling_as("third"):  # the refused call gave back the share it had taken: 2 fit
        assert [await bh.acquire(), await bh.acquire()] == ["third", "third"]


async def test_a_released_slot_goes_to_the_waiting_call_of_the_same_consumer():
    bh = Bulkhead("src", max_in_flight=4, max_per_consumer=1, queue_timeout=1)
    with calling_as("one"):
        charged = await bh.acquire()
        asyncio.get_running_loop().call_later(0.02, bh.release, charged)
        assert await bh.acquire() == "one"
    assert bh.in_flight == 1 and bh.held == {"one": 1}


async def test_async_with_charges_and_gives_back_the_callers_share():
    bh = Bulkhead("src", max_in_flight=2, max_per_consumer=1, queue_timeout=0)
    with calling_as("one"):
        async with bh:
            assert bh.held == {"one": 1}
            with pytest.raises(RateLimited):
                await bh.acquire()
        async with bh:
            pass
    assert bh.in_flight == 0 and bh.held == {"one": 0}


async def test_calls_of_no_consumer_and_shares_as_large_as_the_source_are_not_bounded():
    bh = Bulkhead("src", max_in_flight=2, max_per_consumer=1, queue_timeout=0)
    assert await bh.acquire() is None and await bh.acquire() is None  # no consumer: the CLI
    assert bh.held == {}
    whole = Bulkhead("src", max_in_flight=2, max_per_consumer=2, queue_timeout=0)
    with calling_as("one"):
        assert await whole.acquire() is None and await whole.acquire() is None
    assert whole.max_per_consumer is None and whole.in_flight == 2


async def test_the_share_wait_and_the_slot_wait_together_fit_the_deadline():
    bh = Bulkhead("src", max_in_flight=2, max_per_consumer=1, queue_timeout=30)
    with calling_as("one"):
        await bh.acquire()
        token = deadline.start(0.05)
        try:
            started = time.monotonic()
            with pytest.raises(RateLimited):
                await bh.acquire()
            assert time.monotonic() - started < 1
        finally:
            deadline.end(token)
