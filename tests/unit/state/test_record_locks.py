"""Record locks: one holder per record at a time, bounded waits, dead holders expire."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.errors import Conflict
from gateway.state import StateStore
from gateway.state.lock import RecordLocks


async def test_holders_of_one_record_never_overlap(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=5, wait=10)
    inside: list[int] = []
    most = 0

    async def write(i: int) -> None:
        nonlocal most
        async with locks.hold(["src:E:1"]) as held:
            inside.append(i)
            most = max(most, len(inside))
            await asyncio.sleep(0)  # a backend read would suspend here
            await held.confirm()
            await asyncio.sleep(0)
            inside.remove(i)

    await asyncio.gather(*(write(i) for i in range(20)))
    assert most == 1


async def test_other_records_are_not_held_up(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=5, wait=0)
    async with locks.hold(["src:E:1"]):
        async with locks.hold(["src:E:2"]):
            pass  # wait=0: would be refused at once if record 2 were held


async def test_a_long_wait_is_a_409_with_retry_after(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=5, wait=0.2)
    async with locks.hold(["src:E:1"]):
        started = time.monotonic()
        with pytest.raises(Conflict) as info:
            async with locks.hold(["src:E:1"]):
                pass
    assert 0.15 <= time.monotonic() - started < 2
    assert info.value.key == "record_busy" and info.value.retry_after == 1.0


async def test_a_dead_holder_wedges_the_record_for_ttl_at_most(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=0.3, wait=5)
    # A replica that took the lock and died: nobody releases or renews it.
    assert await store.lock(["lock:src:E:1"], "dead-replica", 0.3)
    started = time.monotonic()
    async with locks.hold(["src:E:1"]):
        waited = time.monotonic() - started
    assert 0.15 <= waited < 3


async def test_a_hold_outlives_its_ttl_while_renewed(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=1.0, wait=0)
    async with locks.hold(["src:E:1"]) as held:
        await asyncio.sleep(1.5)  # longer than the ttl: the renewals keep it
        await held.confirm()
        with pytest.raises(Conflict):
            async with locks.hold(["src:E:1"]):
                pass


async def test_a_lost_lock_stops_the_write(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=5, wait=0)
    async with locks.hold(["src:E:1"]) as held:
        await store.delete("lock:src:E:1")  # flushed, expired while the store was away...
        assert await store.lock(["lock:src:E:1"], "someone-else", 5)
        with pytest.raises(Conflict) as info:
            await held.confirm()
    assert info.value.key == "record_busy"
    assert not await store.lock(["lock:src:E:1"], "third", 5)  # exit left the other's lock


async def test_overlapping_sets_do_not_deadlock(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=5, wait=10)
    done = 0

    async def write(keys: list[str]) -> None:
        nonlocal done
        async with locks.hold(keys):
            await asyncio.sleep(0.001)
        done += 1

    sets = [["a", "b"], ["b", "a"], ["b", "c"], ["c", "a"]] * 5
    await asyncio.wait_for(asyncio.gather(*(write(k) for k in sets)), 20)
    assert done == len(sets)


async def test_a_cancelled_holder_frees_the_record(store: StateStore) -> None:
    locks = RecordLocks(store, ttl=30, wait=5)
    entered = asyncio.Event()

    async def stuck() -> None:
        async with locks.hold(["src:E:1"]):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.monotonic()
    async with locks.hold(["src:E:1"]):
        pass
    assert time.monotonic() - started < 2  # not the 30 s ttl
