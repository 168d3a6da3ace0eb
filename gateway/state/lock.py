"""Record locks: one read-compare-write per record at a time, across replicas, via the state store.

A backend without an atomic conditional update (the Data Service compares ``UpdateTime`` in a
read, then writes) loses updates when two versioned writes interleave: both read the same
version, both pass, both write. Holding a lock on the record from the read to the write makes
the second one read the first one's result and fail its comparison (409).

Each hold has a random owner token (the fencing: a store releases or extends a lock only for
the token that took it, so a holder whose lock expired never frees its successor's), a TTL (a
replica that dies holding a lock wedges the record for at most ``ttl`` seconds) renewed every
third of it while the holder works, and :meth:`Hold.confirm` right before the write: a holder
that lost its lock (the store was flushed or unreachable long enough) stops before writing.

Waiting is polling with backoff (other replicas' releases cannot be awaited), woken at once by
a release in this process; it ends at ``wait`` seconds or the request's deadline, with 409
``conflict`` (``record_busy``) and ``Retry-After``: nothing was written, try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Iterable
from types import TracebackType

import structlog

from gateway.errors import Conflict
from gateway.state.base import StateStore, StateUnavailable
from gateway.upstream import deadline

__all__ = ["BUSY_RETRY_AFTER", "Hold", "RecordLocks"]

BUSY_RETRY_AFTER = 1.0
_FIRST_POLL, _MAX_POLL = 0.005, 0.2
log = structlog.get_logger("gateway.locks")


def _busy(keys: list[str]) -> Conflict:
    return Conflict("record_busy", {"records": len(keys)}, retry_after=BUSY_RETRY_AFTER)


class RecordLocks:
    """Locks on record keys in one state store (shared by every source of the gateway: keys
    name their source)."""

    def __init__(self, store: StateStore, *, ttl: float = 15.0, wait: float = 10.0) -> None:
        self.store = store
        self.ttl = ttl
        self.wait = wait
        self._released = asyncio.Event()  # set (and replaced) on every release in this process

    def hold(self, keys: Iterable[str]) -> Hold:
        """``async with locks.hold(keys) as held: … await held.confirm(); write``."""
        return Hold(self, sorted({f"lock:{k}" for k in keys}))

    def _notify(self) -> None:
        released, self._released = self._released, asyncio.Event()
        released.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), seconds)


class Hold:
    """One holder's lock on a set of keys, taken all at once (so two holders of overlapping
    sets cannot deadlock), renewed while held, released on exit."""

    def __init__(self, locks: RecordLocks, keys: list[str]) -> None:
        self._locks = locks
        self.keys = keys
        self._owner = uuid.uuid4().hex
        self._renewer: asyncio.Task[None] | None = None
        self.lost = False

    async def __aenter__(self) -> Hold:
        if not self.keys:
            return self
        locks = self._locks
        loop = asyncio.get_running_loop()
        until = loop.time() + deadline.clip(locks.wait)
        pause = _FIRST_POLL
        while not await locks.store.lock(self.keys, self._owner, locks.ttl):
            left = until - loop.time()
            if left <= 0:
                raise _busy(self.keys)
            await locks._pause(min(left, pause * random.uniform(0.5, 1.0)))
            pause = min(_MAX_POLL, pause * 2)
        self._renewer = asyncio.create_task(self._renew())
        return self

    async def _renew(self) -> None:
        locks = self._locks
        while not self.lost:
            await asyncio.sleep(locks.ttl / 3)
            try:
                self.lost = not await locks.store.relock(self.keys, self._owner, locks.ttl)
            except StateUnavailable:
                continue  # try again; confirm() decides before any write

    async def confirm(self) -> None:
        """Right before writing: still ours (and good for another ``ttl``), else 409 busy."""
        if not self.keys:
            return
        if self.lost or not await self._locks.store.relock(self.keys, self._owner,
                                                           self._locks.ttl):
            self.lost = True
            log.warning("record_lock_lost", keys=len(self.keys))
            raise _busy(self.keys)

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._renewer is None:
            return
        self._renewer.cancel()
        try:
            # Shielded: a cancelled request still frees its records for the next writer.
            await asyncio.shield(self._locks.store.unlock(self.keys, self._owner))
        except StateUnavailable:
            log.warning("record_unlock_failed", keys=len(self.keys), ttl=self._locks.ttl)
        finally:
            self._locks._notify()
