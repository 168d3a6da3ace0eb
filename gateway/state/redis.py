"""Redis state store (redis.asyncio) for several replicas: NX sets, counters, Lua buckets, locks
and pub/sub.

Redis must not evict keys (``maxmemory-policy noeviction``, its default): with an eviction
policy a full Redis drops unexpired idempotency records and locks, which is the silent
forgetting the store promises never to do. Under ``noeviction`` a full Redis refuses writes,
which become :class:`StateUnavailable` (503).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.state.base import BucketGrant, Membership, StateUnavailable, bucket_math

__all__ = ["RedisStore"]

T = TypeVar("T")

# One round trip, atomic on the server: refill by the time elapsed (Redis's own clock, so
# replicas with skewed clocks agree), take if enough, store, expire when it would be full again.
# Token counts go back as strings: Redis turns Lua numbers into integers.
TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1])
local at = tonumber(held[2])
if tokens == nil or at == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""

# Locks: a key holds its owner's token; all keys are taken, extended or released together
# only by the owner, so one holder never releases (or extends) another's lock.
LOCK_SCRIPT = """
for _, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if held and held ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
return 1
"""
RELOCK_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return 1
"""
UNLOCK_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1
"""
# An expiring set: a sorted set scored by each member's expiry (Redis's clock, in ms).
JOIN_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, tostring(tonumber(first[2]) - now)}
  end
  redis.call('ZADD', KEYS[1], untl, ARGV[1])
elseif tonumber(score) < untl then
  redis.call('ZADD', KEYS[1], untl, ARGV[1])
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
return {1, '0'}
"""


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


class RedisStore:
    """State shared by every replica using the same Redis and prefix. Connection problems
    become :class:`StateUnavailable` (503) rather than a bug; the callers decide whether to fail
    open (rate limits) or closed (idempotency)."""

    def __init__(self, url: str, *, prefix: str = "recordgate:", timeout: float = 2.0) -> None:
        self._prefix = prefix
        self._url = url
        self._timeout = timeout
        self._client: Any = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._take = self._client.register_script(TAKE_SCRIPT)
        self._lock = self._client.register_script(LOCK_SCRIPT)
        self._relock = self._client.register_script(RELOCK_SCRIPT)
        self._unlock = self._client.register_script(UNLOCK_SCRIPT)
        self._join = self._client.register_script(JOIN_SCRIPT)

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except (RedisError, OSError) as exc:
            # The exception's text names host and port at most; the URL (and its password)
            # is never part of it, and it is not passed on to the caller.
            raise StateUnavailable(
                "state_unavailable", {"reason": type(exc).__name__}, retry_after=1.0
            ) from None

    async def get(self, key: str) -> bytes | None:
        value = await self._call(lambda: self._client.get(self._prefix + key))
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self._call(lambda: self._client.set(self._prefix + key, value, px=_ms(ttl)))

    async def set_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        done = await self._call(
            lambda: self._client.set(self._prefix + key, value, px=_ms(ttl), nx=True)
        )
        return bool(done)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        full = self._prefix + key

        async def run() -> int:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incrby(full, amount)
                if ttl is not None:
                    pipe.pexpire(full, _ms(ttl), nx=True)  # only when created (Redis ≥ 7)
                result = await pipe.execute()
            return int(result[0])

        return await self._call(run)

    async def delete(self, key: str) -> None:
        await self._call(lambda: self._client.delete(self._prefix + key))

    async def take(self, key: str, rate: float, burst: int, cost: int = 1) -> BucketGrant:
        allowed, tokens = await self._call(
            lambda: self._take(keys=[self._prefix + key], args=[rate, burst, cost])
        )
        return bucket_math(float(tokens), rate, burst, cost, bool(int(allowed)))

    def _keys(self, keys: Sequence[str]) -> list[str]:
        return [self._prefix + k for k in keys]

    async def lock(self, keys: Sequence[str], owner: str, ttl: float) -> bool:
        done = await self._call(
            lambda: self._lock(keys=self._keys(keys), args=[owner, _ms(ttl)])
        )
        return bool(int(done))

    async def relock(self, keys: Sequence[str], owner: str, ttl: float) -> bool:
        done = await self._call(
            lambda: self._relock(keys=self._keys(keys), args=[owner, _ms(ttl)])
        )
        return bool(int(done))

    async def unlock(self, keys: Sequence[str], owner: str) -> None:
        await self._call(lambda: self._unlock(keys=self._keys(keys), args=[owner]))

    async def join(self, key: str, member: str, ttl: float, limit: int) -> Membership:
        joined, wait_ms = await self._call(
            lambda: self._join(keys=[self._prefix + key], args=[member, _ms(ttl), limit])
        )
        return Membership(bool(int(joined)), float(wait_ms) / 1000)

    async def leave(self, key: str, member: str) -> None:
        await self._call(lambda: self._client.zrem(self._prefix + key, member))

    async def publish(self, channel: str, message: bytes) -> None:
        await self._call(lambda: self._client.publish(self._prefix + channel, message))

    async def listen(
        self,
        channel: str,
        on_message: Callable[[bytes], None],
        on_ready: Callable[[], None],
        *,
        heartbeat: float = 1.0,
    ) -> None:
        """See :class:`~gateway.state.base.Broadcast`. A connection of its own, which redis-py
        must not quietly reconnect and resubscribe (the messages sent meanwhile would be lost
        without anyone knowing): no retries, and a PING after each ``heartbeat`` of silence,
        whose answer must come before the next one."""
        client: Any = aioredis.Redis.from_url(
            self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0), health_check_interval=0,
        )
        pubsub = client.pubsub()
        loop = asyncio.get_running_loop()
        try:
            await self._call(lambda: pubsub.subscribe(self._prefix + channel))
            heard = loop.time()
            while True:
                message = await self._call(lambda: pubsub.get_message(timeout=heartbeat))
                now = loop.time()
                if message is None:
                    if now - heard >= 2 * heartbeat:  # the last PING went unanswered
                        raise StateUnavailable("state_unavailable", {"reason": "no heartbeat"},
                                               retry_after=1.0)
                    await self._call(pubsub.ping)
                    continue
                heard = now
                if message["type"] == "subscribe":
                    on_ready()
                elif message["type"] == "message":
                    on_message(message["data"])
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def ping(self) -> bool:
        """Whether Redis answers (for readiness checks and tests)."""
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def aclose(self) -> None:
        await self._client.aclose()
