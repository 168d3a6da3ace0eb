"""Both state stores behave alike: expiry, NX reservations, counters, atomic token buckets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.config.model import StateConfig
from gateway.state import MemoryStore, StateStore, StateUnavailable, open_store
from gateway.state.redis import RedisStore


async def test_set_get_and_expiry(store: StateStore) -> None:
    assert await store.get("a") is None
    await store.set("a", b"\x00one\xff", ttl=0.15)
    assert await store.get("a") == b"\x00one\xff"
    await asyncio.sleep(0.25)
    assert await store.get("a") is None


async def test_set_if_absent_reserves_once(store: StateStore) -> None:
    results = await asyncio.gather(*(store.set_if_absent("k", b"%d" % i, 10) for i in range(20)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await store.get("k") == b"%d" % winner
    await store.delete("k")
    assert await store.set_if_absent("k", b"again", 10)
    await store.delete("never-set")  # no error


async def test_set_if_absent_after_expiry(store: StateStore) -> None:
    assert await store.set_if_absent("k", b"1", 0.1)
    await asyncio.sleep(0.2)
    assert await store.set_if_absent("k", b"2", 10)


async def test_incr_counts_and_expires(store: StateStore) -> None:
    assert await store.incr("n", ttl=0.2) == 1
    assert await store.incr("n", 5, ttl=10) == 6  # the ttl is the creation's, not renewed
    await asyncio.sleep(0.3)
    assert await store.incr("n") == 1


async def test_bucket_burst_then_refusal_with_waits(store: StateStore) -> None:
    grants = [await store.take("b", rate=0.5, burst=2) for _ in range(3)]
    assert [g.allowed for g in grants] == [True, True, False]
    assert [g.remaining for g in grants] == [1, 0, 0]
    refused = grants[2]
    assert refused.limit == 2
    assert 1.5 < refused.retry_after <= 2.0  # one token at 0.5/s
    assert 3.5 < refused.reset <= 4.0  # two tokens to full


async def test_bucket_refills(store: StateStore) -> None:
    for _ in range(2):
        assert (await store.take("b", rate=20, burst=2)).allowed
    assert not (await store.take("b", rate=20, burst=2)).allowed
    await asyncio.sleep(0.12)  # 2.4 tokens' worth, capped at 2
    assert (await store.take("b", rate=20, burst=2)).allowed


async def test_bucket_is_atomic_under_concurrency(store: StateStore) -> None:
    grants = await asyncio.gather(*(store.take("c", rate=0.01, burst=10) for _ in range(60)))
    assert sum(g.allowed for g in grants) == 10


async def test_bucket_cost_larger_than_one(store: StateStore) -> None:
    assert (await store.take("d", rate=1, burst=5, cost=4)).allowed
    refused = await store.take("d", rate=1, burst=5, cost=4)
    assert not refused.allowed and refused.remaining == 1  # a refusal takes nothing


async def test_unreachable_redis_is_a_clean_503() -> None:
    store = RedisStore("redis://:hunter2-secret@127.0.0.1:1/0", timeout=0.5)
    with pytest.raises(StateUnavailable) as info:
        await store.get("x")
    err = info.value
    assert err.status == 503 and err.retry_after is not None
    assert "hunter2" not in repr(err) and err.__cause__ is None and err.__suppress_context__
    await store.aclose()


def test_factory_follows_the_config() -> None:
    assert isinstance(open_store(StateConfig()), MemoryStore)
    redis_cfg: Any = StateConfig.model_validate({"backend": "redis",
                                                 "url": "redis://127.0.0.1:6379/15",
                                                 "secretKey": "x" * 16})
    assert isinstance(open_store(redis_cfg), RedisStore)


def test_config_refuses_redis_without_url() -> None:
    with pytest.raises(ValueError, match="needs a url"):
        StateConfig.model_validate({"backend": "redis"})


def test_config_refuses_redis_without_a_secret_key() -> None:
    """Backend tokens are shared through Redis encrypted with it: no key, no start."""
    with pytest.raises(ValueError, match=r"needs state\.secretKey"):
        StateConfig.model_validate({"backend": "redis", "url": "redis://127.0.0.1:6379/15"})
    with pytest.raises(ValueError, match="at least 16 characters"):
        StateConfig.model_validate({"backend": "redis", "url": "redis://127.0.0.1:6379/15",
                                    "secretKey": "short"})

