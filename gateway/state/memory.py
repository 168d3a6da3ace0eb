"""In-memory state store for one replica: cachetools TLRU cache bounded in bytes, per-key expiry."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache

from gateway.state.base import BucketGrant, bucket_math

__all__ = ["MemoryStore"]

_OVERHEAD = 100  # rough bytes per entry beyond its value, so many tiny keys still count


@dataclass(slots=True)
class _Entry:
    value: bytes | int | tuple[float, float]  # bytes, a counter, or a bucket (tokens, at)
    expires: float


def _size(entry: _Entry) -> int:
    value = entry.value
    return _OVERHEAD + (len(value) if isinstance(value, bytes) else 16)


class MemoryStore:
    """The state of one process. Each operation runs without an ``await`` between its read
    and its write, so it is atomic on the event loop: no lock is needed (nor a lock table that
    grows with the keys). When full, the entries closest to expiry go first."""

    def __init__(self, *, max_bytes: int = 64 * 1024 * 1024, prefix: str = "") -> None:
        self._prefix = prefix
        self._cache: TLRUCache[str, _Entry] = TLRUCache(
            maxsize=max_bytes, ttu=self._ttu, timer=time.monotonic, getsizeof=_size
        )

    @staticmethod
    def _ttu(_key: Any, entry: _Entry, _now: float) -> float:
        return entry.expires

    def _put(self, key: str, value: bytes | int | tuple[float, float], ttl: float) -> None:
        try:
            self._cache[self._prefix + key] = _Entry(value, time.monotonic() + ttl)
        except ValueError:
            pass  # larger than the whole store: not kept, as if evicted at once

    def _value(self, key: str) -> bytes | int | tuple[float, float] | None:
        entry = self._cache.get(self._prefix + key)
        return None if entry is None else entry.value

    async def get(self, key: str) -> bytes | None:
        value = self._value(key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self._put(key, value, ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        if self._value(key) is not None:
            return False
        self._put(key, value, ttl)
        return True

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        entry = self._cache.get(self._prefix + key)
        if entry is None or not isinstance(entry.value, int):
            new = amount
            expires = time.monotonic() + (ttl if ttl is not None else 365 * 86400)
        else:
            new = entry.value + amount
            expires = entry.expires
        self._put(key, new, expires - time.monotonic())
        return new

    async def delete(self, key: str) -> None:
        self._cache.pop(self._prefix + key, None)

    async def take(self, key: str, rate: float, burst: int, cost: int = 1) -> BucketGrant:
        now = time.monotonic()
        value = self._value(key)
        tokens = float(burst)
        if isinstance(value, tuple):
            held, at = value
            tokens = min(float(burst), held + max(0.0, now - at) * rate)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        # Kept until it would be full again; after that a new bucket is the same thing.
        self._put(key, (tokens, now), (burst - tokens) / rate + 1.0)
        return bucket_math(tokens, rate, burst, cost, allowed)

    async def aclose(self) -> None:
        self._cache.clear()
