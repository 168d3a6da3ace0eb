"""Bulkhead per source: bounded calls in flight, bounded wait for a slot, then 503 at once.

Without it a slow backend collects every waiting request (and their sockets, memory and the
event loop's attention) until the gateway starves its other sources; with it, the slow source
answers ``backend_unavailable`` to the surplus while the others go on untouched.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from gateway.errors import BackendUnavailable, SourceInfo
from gateway.observability.metrics import Metrics
from gateway.upstream import deadline

__all__ = ["BUSY_RETRY_AFTER", "Bulkhead"]

# A slot frees as soon as one call ends, so a short wait is the honest hint.
BUSY_RETRY_AFTER = 1.0


class Bulkhead:
    """``async with bulkhead:`` holds one of ``max_in_flight`` slots for one backend attempt.

    The wait for a slot is at most ``queue_timeout`` and never past the request's deadline.
    """

    def __init__(
        self,
        source: str,
        *,
        max_in_flight: int = 32,
        queue_timeout: float = 2.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.source = source
        self.max_in_flight = max_in_flight
        self.queue_timeout = queue_timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self.in_flight = 0
        self._rejected = None if metrics is None else metrics.bulkhead_rejected.labels(source)
        if metrics is not None:
            metrics.bulkhead_in_flight.labels(source).set_function(lambda: self.in_flight)

    async def acquire(self) -> None:
        """Take a slot, or raise 503 ``backend_unavailable`` (Retry-After 1) when none freed
        up in time; the call then never reached the backend."""
        if not self._slots.locked():  # the common case: no wait, no timer
            await self._slots.acquire()
        else:
            wait = deadline.clip(self.queue_timeout)
            try:
                async with asyncio.timeout(wait):
                    await self._slots.acquire()
            except TimeoutError:
                if self._rejected is not None:
                    self._rejected.inc()
                raise BackendUnavailable(
                    f"{self.source}: {self.max_in_flight} calls to the backend are already in "
                    "flight; try again shortly",
                    sent=False, retry_after=BUSY_RETRY_AFTER,
                    source=SourceInfo(self.source, None, "busy"),
                ) from None
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        self._slots.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
