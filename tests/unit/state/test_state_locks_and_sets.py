"""Both stores: all-or-none fenced locks with expiry, bounded expiring sets, refusal when full."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.state import MemoryStore, StateFull, StateStore


async def eventually_locks(store: StateStore, keys: list[str], owner: str,
                           within: float = 5.0) -> float:
    """Poll (with a deadline) until ``owner`` takes ``keys``; the seconds it took."""
    start = time.monotonic()
    while not await store.lock(keys, owner, 10):
        assert time.monotonic() - start < within, "the lock never expired"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_lock_is_all_or_none(store: StateStore) -> None:
    assert await store.lock(["a", "b"], "A", 10)
    assert not await store.lock(["b", "c"], "B", 10)
    assert await store.lock(["c"], "C", 10)  # B's refused take left c free
    assert await store.lock(["a", "b"], "A", 10)  # the holder may take its own again


async def test_only_the_owner_releases_or_extends(store: StateStore) -> None:
    assert await store.lock(["r"], "A", 10)
    await store.unlock(["r"], "B")
    assert not await store.relock(["r"], "B", 10)
    assert not await store.lock(["r"], "B", 10)  # still A's
    assert await store.relock(["r"], "A", 10)
    await store.unlock(["r"], "A")
    assert await store.lock(["r"], "B", 10)


async def test_a_dead_holders_lock_expires_and_fencing_holds(store: StateStore) -> None:
    assert await store.lock(["r"], "dead", 0.2)
    waited = await eventually_locks(store, ["r"], "next")
    assert waited >= 0.1
    # The old holder wakes up: it can neither extend nor release its successor's lock.
    assert not await store.relock(["r"], "dead", 10)
    await store.unlock(["r"], "dead")
    assert not await store.lock(["r"], "third", 10)


async def test_relock_extends_the_hold(store: StateStore) -> None:
    assert await store.lock(["r"], "A", 0.3)
    for _ in range(3):
        await asyncio.sleep(0.15)
        assert await store.relock(["r"], "A", 0.3)
    assert not await store.lock(["r"], "B", 10)  # 0.45 s after a 0.3 s take: extended


async def test_set_is_bounded_and_members_expire(store: StateStore) -> None:
    for m in ("a", "b", "c"):
        assert (await store.join("s", m, 30, limit=3)).joined
    assert (await store.join("s", "a", 1, limit=3)).joined  # already in: no new place
    refused = await store.join("s", "d", 30, limit=3)
    assert not refused.joined and 25 < refused.retry_after <= 30
    await store.leave("s", "b")
    assert (await store.join("s", "d", 30, limit=3)).joined
    assert (await store.join("t", "x", 0.1, limit=1)).joined
    deadline = time.monotonic() + 5
    while not (await store.join("t", "y", 10, limit=1)).joined:
        assert time.monotonic() < deadline, "members never expire"
        await asyncio.sleep(0.02)


async def test_concurrent_joins_never_pass_the_limit(store: StateStore) -> None:
    got = await asyncio.gather(*(store.join("s", f"m{i}", 30, limit=5) for i in range(40)))
    assert sum(g.joined for g in got) == 5


async def test_memory_store_refuses_instead_of_evicting() -> None:
    store = MemoryStore(max_bytes=10_000)
    kept = []
    with pytest.raises(StateFull) as info:
        for i in range(100):
            await store.set(f"k{i}", b"x" * 500, ttl=60)
            kept.append(i)
    assert 10 <= len(kept) < 20
    assert [await store.get(f"k{i}") for i in kept] == [b"x" * 500] * len(kept)  # none dropped
    err = info.value
    assert err.status == 503 and err.key == "state_full" and 1 <= (err.retry_after or 0) <= 60
    with pytest.raises(StateFull):
        await store.set_if_absent("new", b"y" * 500, 60)
    with pytest.raises(StateFull):
        await store.set("huge", b"x" * 20_000, ttl=60)  # larger than the whole store
    assert store.used_bytes <= 10_000
    for i in kept[:3]:
        await store.delete(f"k{i}")
    # New reservations stop at 90 %: the rest is for answers replacing reservations.
    assert await store.set_if_absent("new", b"y" * 500, 60)
    await store.set("new", b"y" * 1_500, 60)  # fits in the reserve


async def test_memory_store_makes_room_from_expired_entries_only() -> None:
    store = MemoryStore(max_bytes=5_000)
    await store.set("short", b"x" * 3_000, ttl=0.1)
    await store.set("long", b"x" * 1_000, ttl=60)
    with pytest.raises(StateFull) as info:
        await store.set("new", b"x" * 2_000, ttl=60)
    assert info.value.retry_after == 1.0  # the soonest expiry (0.1 s), never below 1 s
    deadline = time.monotonic() + 5
    while True:
        try:
            await store.set("new", b"x" * 2_000, ttl=60)
            break
        except StateFull:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    assert await store.get("long") == b"x" * 1_000 and await store.get("short") is None


async def test_a_lock_is_never_evicted_for_room() -> None:
    store = MemoryStore(max_bytes=2_000)
    assert await store.lock(["r"], "A", 60)
    with pytest.raises(StateFull):
        for i in range(100):
            await store.set(f"k{i}", b"x" * 100, ttl=60)
    assert not await store.lock(["r"], "B", 60)
    await store.aclose()
