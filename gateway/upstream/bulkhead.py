"""Bulkhead per source: bounded calls in flight, each consumer to its share, then 503 or 429.

Without it a slow backend collects every waiting request (and their sockets, memory and the
event loop's attention) until the gateway starves its other sources; with it, the slow source
answers ``backend_unavailable`` to the surplus while the others go on untouched.

Within one source, a consumer holds at most ``max_per_consumer`` of its slots, so a consumer
flooding the source with slow calls (or uploads it never finishes) saturates its own share only
and the others still get through. A call beyond its consumer's share waits, like any other, up
to ``queue_timeout`` for one of that consumer's own calls to end, then is refused with 429
``rate_limited``: the consumer's own limit, not the backend's (which is not unavailable), so
the refusal says nothing about the source's health.

A streamed transfer (a file download relayed to the consumer) holds a call slot only until the
backend's answer head is in; the body is then paced by the consumer, who may read slowly, and a
slow reader must not shut everyone else out of the source's calls. It holds a slot of
:attr:`Bulkhead.transfers` instead, a second bulkhead of the same size and share, so slow
downloads can only crowd out other downloads (503, or 429 past the consumer's share), while
queries and writes keep their slots. The relay itself is bounded by ``server.writeTimeout``
(the consumer takes nothing) and by the source's per-read timeout (the backend sends nothing).
With both pools full a source holds twice ``maxInFlight`` pooled connections; ``maxConnections``
(100) leaves room for that at the default ``maxInFlight`` (32).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

import structlog

from gateway.errors import BackendUnavailable, GatewayError, RateLimited, SourceInfo
from gateway.i18n import Message
from gateway.observability.metrics import Metrics
from gateway.upstream import deadline
from gateway.upstream.context import CONSUMER

__all__ = ["BUSY_RETRY_AFTER", "Bulkhead"]

log = structlog.get_logger("gateway.upstream")

# A slot frees as soon as one call ends, so a short wait is the honest hint.
BUSY_RETRY_AFTER = 1.0


class Bulkhead:
    """``async with bulkhead:`` holds one of ``max_in_flight`` slots for one backend attempt;
    :meth:`acquire` / :meth:`release` do the same for a slot held across a streamed transfer.

    The wait for a slot is at most ``queue_timeout`` and never past the request's deadline.
    ``max_per_consumer`` (None: no per-consumer bound) caps what the consumer in
    :data:`gateway.upstream.context.CONSUMER` holds at once.
    """

    def __init__(
        self,
        source: str,
        *,
        max_in_flight: int = 32,
        max_per_consumer: int | None = None,
        queue_timeout: float = 2.0,
        metrics: Metrics | None = None,
        kind: str = "calls",
    ) -> None:
        self.source = source
        self.kind = kind
        self.max_in_flight = max_in_flight
        # A share as large as the whole bulkhead bounds nothing: skip its bookkeeping.
        self.max_per_consumer = (
            None if max_per_consumer is None or max_per_consumer >= max_in_flight
            else max_per_consumer
        )
        self.queue_timeout = queue_timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        # One per consumer that called; consumers come from the config, so this stays bounded.
        self._shares: dict[str, asyncio.Semaphore] = {}
        self.in_flight = 0
        self.held: dict[str, int] = {}  # slots in flight per consumer (bounded ones only)
        self._rejected = None if metrics is None else metrics.bulkhead_rejected.labels(source)
        if metrics is not None:
            metrics.track(metrics.bulkhead_in_flight.labels(source), lambda: self.in_flight)
        # Streamed transfers' own slots (see the module docstring); none for the pool itself.
        self.transfers: Bulkhead | None = None if kind != "calls" else Bulkhead(
            source, max_in_flight=max_in_flight, max_per_consumer=max_per_consumer,
            queue_timeout=queue_timeout, kind="file transfers",
        )

    async def acquire(self) -> str | None:
        """Take a slot, or raise when none freed up in time (the call then never reached the
        backend): 429 ``rate_limited`` when the consumer's share stayed full, 503
        ``backend_unavailable`` when the whole bulkhead did; both with Retry-After 1.

        Returns the consumer the slot is charged to; give it back to :meth:`release`."""
        consumer = CONSUMER.get() if self.max_per_consumer is not None else None
        share = None if consumer is None else self._share(consumer)
        until = time.monotonic() + deadline.clip(self.queue_timeout)
        if share is not None:
            assert consumer is not None
            await _take(share, until, lambda: self._share_full(consumer))
        try:
            await _take(self._slots, until, self._busy)
        except BaseException:
            if share is not None:
                share.release()
            raise
        self.in_flight += 1
        if consumer is not None:
            self.held[consumer] = self.held.get(consumer, 0) + 1
        return consumer

    def release(self, consumer: str | None = None) -> None:
        """Give back a slot :meth:`acquire` took (charged to ``consumer``, as it returned)."""
        self.in_flight -= 1
        self._slots.release()
        if consumer is not None:
            self.held[consumer] -= 1
            self._shares[consumer].release()

    def _share(self, consumer: str) -> asyncio.Semaphore:
        share = self._shares.get(consumer)
        if share is None:
            assert self.max_per_consumer is not None
            share = self._shares[consumer] = asyncio.Semaphore(self.max_per_consumer)
        return share

    def _busy(self) -> GatewayError:
        if self._rejected is not None:
            self._rejected.inc()
        return BackendUnavailable(
            "backend_busy", {"source": self.source, "count": self.max_in_flight,
                             "kind": self._kind()},
            sent=False, retry_after=BUSY_RETRY_AFTER,
            source=SourceInfo(self.source, None, "busy"),
        )

    def _share_full(self, consumer: str) -> GatewayError:
        log.warning("consumer_share_full", source=self.source, consumer=consumer,
                    limit=self.max_per_consumer)
        return RateLimited(
            "consumer_share_full",
            {"source": self.source, "limit": self.max_per_consumer, "kind": self._kind()},
            retry_after=BUSY_RETRY_AFTER,
            source=SourceInfo(self.source, None, "consumer_share_full"),
        )

    def _kind(self) -> Message:
        """What is in flight, in the caller's words ("calls", "file transfers")."""
        return Message("in_flight_transfers" if self.kind == "file transfers"
                       else "in_flight_calls")

    async def __aenter__(self) -> str | None:
        return await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Same task as __aenter__, so the contextvar still names the consumer charged.
        self.release(CONSUMER.get() if self.max_per_consumer is not None else None)


async def _take(
    slots: asyncio.Semaphore, until: float, refusal: Callable[[], GatewayError]
) -> None:
    """Acquire ``slots`` by ``until`` (monotonic), else raise ``refusal()``."""
    if not slots.locked():  # the common case: no wait, no timer
        await slots.acquire()
        return
    try:
        async with asyncio.timeout(max(0.0, until - time.monotonic())):
            await slots.acquire()
    except TimeoutError:
        raise refusal() from None
