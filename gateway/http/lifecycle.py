"""Requests in flight and how they end: writes shielded from hang-ups, the drain on shutdown.

A consumer that hangs up has its handler cancelled (``GatewayRunner`` turns on aiohttp's
``handler_cancellation``), so an abandoned query stops making backend calls at its next await.
A write must not be cut that way: once its backend call is sent, stopping half-way would leave
an outcome nobody knows (was the record created?) and no idempotency record to replay it. So
:func:`lifecycle_middleware` runs every write route (the Idempotency-Key routes, ``/v1/bulk``
included) in its own task, shielded: the hang-up ends the consumer's side only, the write
finishes, its idempotency record is stored and its access line logged with the real status.
A bulk call then starts no further entry (:func:`halted`); entries not started answer 424
``not_executed`` (:class:`NotSent`), also when the request's deadline has passed, so only an
entry whose call was in flight can end with an unknown outcome (504).

Shutdown (:meth:`InFlight.drain`, called by ``GatewayRunner.stop``): requests in flight get
``server.drainTimeout`` to finish (a second SIGTERM cuts that short); then reads are cancelled,
bulk calls stop between entries, and the writes already sent are waited for, however many
signals arrive (each is bounded by its own request deadline).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.errors import NotSent
from gateway.upstream import deadline

__all__ = [
    "INFLIGHT",
    "WRITE_ROUTES",
    "InFlight",
    "NotSent",
    "halted",
    "lifecycle_middleware",
]

log = structlog.get_logger("gateway.lifecycle")

# The routes that may change data (the same list idempotency keys apply to).
WRITE_ROUTES = frozenset({
    "records.create", "records.update", "records.put", "records.delete",
    "files.put", "files.delete", "bulk.run",
})
# Past its deadline a write's calls end at once (the deadline clips every wait), so waiting
# longer than this for writes on shutdown only covers the time to write their answers.
WRITE_GRACE = 5.0


@dataclass(eq=False)
class _Request:
    task: asyncio.Future[web.StreamResponse] | asyncio.Task[object]
    write: bool
    stopping: asyncio.Event
    hung_up: bool = False


@dataclass
class InFlight:
    """The requests being served (one app); ``stopping`` is set once the drain window ends."""

    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _requests: set[_Request] = field(default_factory=set)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()

    def __len__(self) -> int:
        return len(self._requests)

    def _add(self, req: _Request) -> None:
        self._requests.add(req)
        self._idle.clear()

    def _discard(self, req: _Request) -> None:
        self._requests.discard(req)
        if not self._requests:
            self._idle.set()

    async def drain(self, window: float, hurry: asyncio.Event, *,
                    write_cap: float = 60.0 + WRITE_GRACE) -> None:
        """Wait ``window`` seconds (or until ``hurry`` is set) for every request to end; then
        cancel the reads, stop bulk calls between entries, and wait up to ``write_cap`` for the
        writes already running."""
        if self._requests:
            log.info("draining", requests=len(self._requests), seconds=window)
            idle = asyncio.ensure_future(self._idle.wait())
            hurried = asyncio.ensure_future(hurry.wait())
            try:
                await asyncio.wait({idle, hurried}, timeout=window,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                idle.cancel()
                hurried.cancel()
        self.stopping.set()
        reads = [r for r in self._requests if not r.write]
        writes = len(self._requests) - len(reads)
        if reads or writes:
            log.warning("drain_ended", reads_cancelled=len(reads), writes_waited_for=writes)
        for req in reads:
            req.task.cancel()
        try:
            async with asyncio.timeout(write_cap):
                await self._idle.wait()
        except TimeoutError:
            log.error("writes_still_running", writes=len(self._requests))


INFLIGHT = web.AppKey("inflight", InFlight)
# The write (or bulk call) this task serves; its bulk entries inherit it.
_CURRENT: ContextVar[_Request | None] = ContextVar("gateway_inflight", default=None)


def halted() -> bool:
    """Whether a bulk call must start no further entry: its consumer hung up, the gateway's
    drain window is over, or the request's deadline has passed."""
    req = _CURRENT.get()
    if req is not None and (req.hung_up or req.stopping.is_set()):
        return True
    left = deadline.remaining()
    return left is not None and left <= 0


def _settle(inflight: InFlight, req: _Request, task: asyncio.Future[web.StreamResponse]) -> None:
    inflight._discard(req)
    # A write whose consumer is gone has nobody to hand its exception to; log it here.
    if not task.cancelled() and task.exception() is not None:
        log.error("write_failed_after_hangup", exc_info=task.exception())


@web.middleware
async def lifecycle_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: track the request; run a write in a shielded task of its own."""
    inflight = request.app[INFLIGHT]
    write = (request.match_info.route.name or "") in WRITE_ROUTES
    current = asyncio.current_task()
    assert current is not None
    req = _Request(current, write, inflight.stopping)
    inflight._add(req)
    if not write:
        try:
            return await handler(request)
        finally:
            inflight._discard(req)
    token = _CURRENT.set(req)
    try:
        task = asyncio.ensure_future(handler(request))  # copies the context, _CURRENT included
    finally:
        _CURRENT.reset(token)
    req.task = task
    task.add_done_callback(partial(_settle, inflight, req))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            # The consumer hung up (or the server is going down): the write goes on to its end
            # and is recorded; a bulk call starts no further entry.
            req.hung_up = True
            log.info("write_outlives_consumer", route=request.match_info.route.name)
        raise
