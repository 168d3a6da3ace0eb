"""In-memory state store for one replica: bounded in bytes, per-key expiry, never evicts early."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from cachetools import TLRUCache

from gateway.state.base import BucketGrant, Membership, StateFull, bucket_math

__all__ = ["MemoryStore"]

_OVERHEAD = 100  # rough bytes per entry beyond its value, so many tiny keys still count
_MEMBER_OVERHEAD = 64  # rough bytes per member of a set, beyond its name
# Bounds of the Retry-After of a refusal: entries are freed sooner than they expire (a call
# whose answer is not kept frees its reservation), so never send a client away for hours.
_FULL_RETRY_MIN, _FULL_RETRY_MAX = 1.0, 60.0
# New reservations (``set_if_absent``) stop at this share of the store, so the answers of the
# calls already admitted (larger than their reservations) still find room when they land.
ADMIT_SHARE = 0.9

Value = bytes | int | tuple[float, float] | dict[str, float]


@dataclass(slots=True)
class _Entry:
    # bytes, a counter, a bucket (tokens, at), or a set (member -> monotonic expiry)
    value: Value
    expires: float


def _size(entry: _Entry) -> int:
    value = entry.value
    if isinstance(value, bytes):
        return _OVERHEAD + len(value)
    if isinstance(value, dict):
        return _OVERHEAD + sum(_MEMBER_OVERHEAD + len(m) for m in value)
    return _OVERHEAD + 16


class _NoRoom(Exception):
    pass


class _Entries(TLRUCache[str, _Entry]):
    """A TLRU cache that drops entries only when they expire: where cachetools would evict one
    to make room (``popitem``), the write is refused instead."""

    def popitem(self) -> NoReturn:
        raise _NoRoom

    def clear(self) -> None:  # MutableMapping.clear would go through popitem
        for key in list(self.keys()):
            self.pop(key, None)


class MemoryStore:
    """The state of one process. Each operation runs without an ``await`` between its read
    and its write, so it is atomic on the event loop: no lock is needed (nor a lock table that
    grows with the keys). When full, expired entries go first; if that is not enough the write
    is refused with :class:`StateFull`, never made by dropping an entry that has not expired;
    new reservations are refused already at ``ADMIT_SHARE`` of it. Everything is lost when the
    process ends."""

    def __init__(self, *, max_bytes: int = 64 * 1024 * 1024, prefix: str = "") -> None:
        self._prefix = prefix
        self._cache = _Entries(maxsize=max_bytes, ttu=self._ttu, timer=time.monotonic,
                               getsizeof=_size)

    @staticmethod
    def _ttu(_key: Any, entry: _Entry, _now: float) -> float:
        return entry.expires

    def _full(self) -> StateFull:
        now = time.monotonic()
        soonest = min((e.expires for e in self._cache.values()), default=now)
        wait = min(_FULL_RETRY_MAX, max(_FULL_RETRY_MIN, soonest - now))
        return StateFull("state_full", {"reason": "full"}, retry_after=wait)

    def _put(self, key: str, value: Value, ttl: float) -> None:
        try:
            self._cache[self._prefix + key] = _Entry(value, time.monotonic() + ttl)
        except (_NoRoom, ValueError):  # ValueError: larger than the whole store
            raise self._full() from None

    def _value(self, key: str) -> Value | None:
        entry = self._cache.get(self._prefix + key)
        return None if entry is None else entry.value

    @property
    def used_bytes(self) -> int:
        """Bytes the unexpired (and not yet purged) entries take, by the store's own count."""
        return int(self._cache.currsize)

    async def get(self, key: str) -> bytes | None:
        value = self._value(key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self._put(key, value, ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        if self._value(key) is not None:
            return False
        needed = _size(_Entry(value, 0.0))
        if self._cache.currsize + needed > self._cache.maxsize * ADMIT_SHARE:
            self._cache.expire()
            if self._cache.currsize + needed > self._cache.maxsize * ADMIT_SHARE:
                raise self._full()
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

    async def lock(self, keys: Sequence[str], owner: str, ttl: float) -> bool:
        mine = owner.encode()
        if any(self._value(k) not in (None, mine) for k in keys):
            return False
        taken: list[str] = []
        try:
            for k in keys:
                self._put(k, mine, ttl)
                taken.append(k)
        except StateFull:
            for k in taken:  # all or none
                self._cache.pop(self._prefix + k, None)
            raise
        return True

    async def relock(self, keys: Sequence[str], owner: str, ttl: float) -> bool:
        mine = owner.encode()
        if any(self._value(k) != mine for k in keys):
            return False
        for k in keys:
            self._put(k, mine, ttl)  # same size as before: never needs room
        return True

    async def unlock(self, keys: Sequence[str], owner: str) -> None:
        mine = owner.encode()
        for k in keys:
            if self._value(k) == mine:
                self._cache.pop(self._prefix + k, None)

    async def join(self, key: str, member: str, ttl: float, limit: int) -> Membership:
        now = time.monotonic()
        held = self._value(key)
        members = {m: t for m, t in held.items() if t > now} if isinstance(held, dict) else {}
        until = now + ttl
        if member in members:
            members[member] = max(members[member], until)
        elif len(members) >= limit:
            return Membership(False, min(members.values()) - now)
        else:
            members[member] = until
        self._put(key, members, max(members.values()) - now)
        return Membership(True, 0.0)

    async def leave(self, key: str, member: str) -> None:
        held = self._value(key)
        if not isinstance(held, dict) or member not in held:
            return
        now = time.monotonic()
        members = {m: t for m, t in held.items() if m != member and t > now}
        if members:
            self._put(key, members, max(members.values()) - now)  # smaller: never needs room
        else:
            self._cache.pop(self._prefix + key, None)

    async def aclose(self) -> None:
        self._cache.clear()
