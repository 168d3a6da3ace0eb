"""Coalescing: consecutive writes of one source and entity sent as the backend's native batch.

The executor plans each write of a run with the records service (every check a write alone
makes, up to its connector call) and :meth:`Batch.add` registers the planned op; a write
refused while planned fails alone, before anything is sent. :meth:`Batch.flush` then sends the
ops through ``Connector.write_batch`` in entry order, in chunks of the backend's limit, and
each op's future holds its outcome, which the service turns into the answer the write alone
would have given (the record, or the error it would have raised).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gateway.connector import BatchAction, BatchOp, BatchOutcome, BatchWriter, Capabilities
from gateway.errors import GatewayError
from gateway.http.lifecycle import NotSent, halted

__all__ = ["WRITE_ROUTES", "Batch", "can_coalesce"]

# The route names whose single call is one connector write, and which write it is.
WRITE_ROUTES: dict[str, BatchAction] = {
    "records.create": "create",
    "records.update": "update",
    "records.put": "update",
    "records.delete": "delete",
}


def can_coalesce(caps: Capabilities, action: BatchAction, *, fail_on_first: bool) -> bool:
    """Whether this backend batches this write (and can stop at a failure when asked to)."""
    return (caps.native_batch and action in caps.batch_actions
            and (not fail_on_first or caps.batch_fail_on_first))


@dataclass(slots=True)
class _Op:
    index: int  # the entry's position in the bulk call: ops are sent in this order
    entity: str
    op: BatchOp
    outcome: asyncio.Future[BatchOutcome]


class Batch:
    """One run of coalesced writes on one source: ops registered in entry order, sent in
    chunks of ``limit`` when :meth:`flush` is called, each sent once."""

    def __init__(
        self, source: str, connector: BatchWriter, *, limit: int, fail_on_first: bool
    ) -> None:
        self.source = source
        self._conn = connector
        self._limit = max(1, limit)
        self._fail_on_first = fail_on_first
        self._ops: list[_Op] = []
        self._closed = False
        self.chunks = 0  # native batch calls made (each may be retried by the connector)

    def add(self, index: int, entity: str, op: BatchOp) -> asyncio.Future[BatchOutcome]:
        """Register entry ``index``'s ``op``; its outcome (or the whole call's exception) is
        in the future once :meth:`flush` has run."""
        fut: asyncio.Future[BatchOutcome] = asyncio.get_running_loop().create_future()
        self._ops.append(_Op(index, entity, op, fut))
        return fut

    async def submit(self, index: int, entity: str, op: BatchOp) -> BatchOutcome | None:
        """Register ``op`` and wait for its outcome; None when the batch was already sent
        (then the caller does the write itself, as alone)."""
        if self._closed:
            return None
        return await self.add(index, entity, op)

    def _chunks(self) -> list[list[_Op]]:
        """Consecutive ops of one entity, at most ``limit`` each, in entry order."""
        out: list[list[_Op]] = []
        for item in sorted(self._ops, key=lambda o: o.index):
            last = out[-1] if out else None
            if last is None or last[0].entity != item.entity or len(last) >= self._limit:
                out.append([item])
            else:
                last.append(item)
        return out

    async def flush(self, *, stop_after: int | None = None) -> None:
        """Send every registered op (none of an entry after ``stop_after``); resolve each op's
        future (never leaves one pending)."""
        self._closed = True
        if stop_after is not None:
            for item in self._ops:
                if item.index > stop_after:
                    item.outcome.set_result(BatchOutcome(executed=False))
            self._ops = [item for item in self._ops if item.index <= stop_after]
        stopped = False
        for chunk in self._chunks():
            if stopped or halted():
                # Past the deadline, consumer gone or shutting down: a chunk not yet sent had
                # no effect, which is not the unknown outcome of the chunk that was in flight.
                error = None if stopped else NotSent()
                for item in chunk:
                    item.outcome.set_result(BatchOutcome(error=error, executed=False))
                continue
            stopped = await self._send(chunk) and self._fail_on_first

    async def _send(self, chunk: list[_Op]) -> bool:
        """One native batch call; True when any op of it failed."""
        self.chunks += 1
        try:
            outcomes = await self._conn.write_batch(
                chunk[0].entity, [item.op for item in chunk], fail_on_first=self._fail_on_first
            )
            if len(outcomes) != len(chunk):
                raise GatewayError("batch_outcome_count", {
                    "source": self.source, "outcomes": len(outcomes), "ops": len(chunk)})
        except Exception as exc:
            # The whole call failed (or its answer was lost): each entry gets that failure, and
            # nothing is resent, since the backend may have applied some of it.
            for item in chunk:
                item.outcome.set_exception(exc)
            return True
        for item, outcome in zip(chunk, outcomes, strict=True):
            item.outcome.set_result(outcome)
        return any(o.error is not None or not o.executed for o in outcomes)
