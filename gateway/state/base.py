"""The state store port: small shared mutable state (idempotency records, rate-limit buckets).

One replica keeps it in memory (``memory.py``); several replicas share it through Redis
(``redis.py``). Keys are plain strings chosen by the caller; each store adds its own prefix.
Every operation is atomic with respect to the others on the same key, across replicas when
the store is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.errors import BackendUnavailable

__all__ = ["BucketGrant", "StateStore", "StateUnavailable", "bucket_math"]


class StateUnavailable(BackendUnavailable):
    """The state store could not be reached (503, with a short Retry-After)."""


@dataclass(frozen=True, slots=True)
class BucketGrant:
    """What one token-bucket take decided, and what the RateLimit-* headers say about it."""

    allowed: bool
    limit: int  # the bucket's size (burst)
    remaining: int  # whole tokens left after this take
    retry_after: float  # seconds until the take would succeed (0 when allowed)
    reset: float  # seconds until the bucket is full again


def bucket_math(tokens: float, rate: float, burst: int, cost: int, allowed: bool) -> BucketGrant:
    """The grant for a bucket holding ``tokens`` after the take (shared by both stores)."""
    missing = 0.0 if allowed else max(0.0, cost - tokens)
    return BucketGrant(
        allowed=allowed,
        limit=burst,
        remaining=max(0, int(tokens + 1e-9)),
        retry_after=missing / rate,
        reset=max(0.0, burst - tokens) / rate,
    )


class StateStore(Protocol):
    """Key → bytes with expiry, counters and token buckets."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds, replacing any value."""
        ...

    async def set_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        """Store ``value`` only if ``key`` holds nothing (Redis ``SET NX``); True when stored."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to an integer counter (absent counts as 0); ``ttl`` is set when the
        counter is created. Returns the new value."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        ...

    async def take(self, key: str, rate: float, burst: int, cost: int = 1) -> BucketGrant:
        """Take ``cost`` tokens from the bucket at ``key`` (``burst`` tokens, refilled at
        ``rate`` per second, full when new), atomically; refused takes take nothing."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
