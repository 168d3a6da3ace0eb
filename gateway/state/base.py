"""The state store port: small shared mutable state (idempotency records, buckets, record locks).

One replica keeps it in memory (``memory.py``); several replicas share it through Redis
(``redis.py``). Keys are plain strings chosen by the caller; each store adds its own prefix.
Every operation is atomic with respect to the others on the same key, across replicas when
the store is shared. No store drops an entry before it expires: when there is no room for a
new one the write is refused with :class:`StateFull` (503 with ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gateway.errors import BackendUnavailable

__all__ = ["Broadcast", "BucketGrant", "Membership", "StateFull", "StateStore",
           "StateUnavailable", "bucket_math"]


class StateUnavailable(BackendUnavailable):
    """The state store could not be reached (503, with a short Retry-After)."""


class StateFull(StateUnavailable):
    """The store has no room for a new entry and will not drop an unexpired one to make it
    (503; ``Retry-After`` says when the soonest entry expires)."""


@dataclass(frozen=True, slots=True)
class Membership:
    """What :meth:`StateStore.join` decided: whether ``member`` is in the set, and when the
    soonest member expires (seconds; how long a refused caller should wait)."""

    joined: bool
    retry_after: float


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

    async def lock(self, keys: Sequence[str], owner: str, ttl: float) -> bool:
        """Take every key for ``owner`` (a token unique to this holder) for ``ttl`` seconds, all
        or none: False, and nothing taken, when any is held by someone else."""
        ...

    async def relock(self, keys: Sequence[str], owner: str, ttl: float) -> bool:
        """Extend ``owner``'s hold on every key to ``ttl`` from now; False when any of them is no
        longer ``owner``'s (it expired, and maybe someone else took it)."""
        ...

    async def unlock(self, keys: Sequence[str], owner: str) -> None:
        """Release the keys ``owner`` holds; a key another holder took since is left alone."""
        ...

    async def join(self, key: str, member: str, ttl: float, limit: int) -> Membership:
        """Add ``member`` to the expiring set at ``key`` unless it already holds ``limit``
        unexpired members; a member already there stays, its expiry moved to ``ttl`` from now
        if that is later. Atomic, so concurrent joins never pass ``limit``."""
        ...

    async def leave(self, key: str, member: str) -> None:
        """Take ``member`` out of the set at ``key`` (no error when absent)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class Broadcast(Protocol):
    """Messages to every process sharing the store (Redis pub/sub; a memory store has no one to
    tell). Delivery is at most once: a process that was not subscribed when a message was
    published never gets it, which is why :meth:`listen` says when its subscription starts and
    raises as soon as it has ended."""

    async def publish(self, channel: str, message: bytes) -> None:
        """Send ``message`` to every process listening on ``channel`` (503 when unreachable)."""
        ...

    async def listen(
        self,
        channel: str,
        on_message: Callable[[bytes], None],
        on_ready: Callable[[], None],
        *,
        heartbeat: float = 1.0,
    ) -> None:
        """Subscribe to ``channel``; call ``on_ready`` once the subscription is in place, then
        ``on_message`` with each message, until the connection is lost (or, checked every
        ``heartbeat`` seconds of silence, stops answering): then raise
        :class:`StateUnavailable`. Never returns; cancel it to stop."""
        ...
