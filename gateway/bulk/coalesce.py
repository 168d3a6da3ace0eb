"""Coalescing: consecutive writes of one source and entity sent as the backend's native batch.

The entries of a run still go through their own handlers (routing, checks, validation, the
envelope), exactly as alone; only the connector call is deferred. While a run is prepared each
entry's handler gets a :class:`BatchingConnector` (through ``gateway.sources.CONNECTOR_HOOK``)
whose ``create``/``update``/``delete`` register a :class:`~gateway.connector.BatchOp` and wait.
When every entry of the run has either registered its write or finished (a bad body fails
alone, before anything is sent), :meth:`Batch.flush` sends the ops through
``Connector.write_batch`` in chunks of the backend's limit, and each waiting handler gets its
outcome back: the record it would have got alone, or the error it would have raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.bulk.model import NotExecuted
from gateway.connector import (
    BatchAction,
    BatchOp,
    BatchOutcome,
    Capabilities,
    Connector,
    EntityInfo,
    FieldInfo,
    FileDownload,
    FileInfo,
    Page,
    PushedQuery,
    Record,
)
from gateway.errors import GatewayError
from gateway.http.lifecycle import NotSent, halted

if TYPE_CHECKING:
    from gateway.query.model import Condition, Filter
    from gateway.sources import Source

__all__ = ["WRITE_ROUTES", "Batch", "BatchingConnector", "can_coalesce"]

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
    """One run of coalesced writes on one source: ops registered by the entries' handlers,
    sent in order in chunks of ``limit`` when :meth:`flush` is called, each sent once."""

    def __init__(
        self, source: str, connector: Connector, *, limit: int, fail_on_first: bool
    ) -> None:
        self.source = source
        self._conn = connector
        self._limit = max(1, limit)
        self._fail_on_first = fail_on_first
        self._ops: list[_Op] = []
        self._arrived: dict[int, asyncio.Future[bool]] = {}
        self._closed = False
        self.chunks = 0  # native batch calls made (each may be retried by the connector)

    def expect(self, index: int) -> asyncio.Future[bool]:
        """A future done when entry ``index`` has registered its write (True) or finished
        without one (False, set by :meth:`finished`)."""
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._arrived[index] = fut
        return fut

    def finished(self, index: int) -> None:
        """Entry ``index``'s handler returned; if it never registered a write, say so."""
        arrived = self._arrived.get(index)
        if arrived is not None and not arrived.done():
            arrived.set_result(False)

    def hook(self, index: int) -> _Hook:
        """The ``CONNECTOR_HOOK`` for entry ``index``'s handler."""
        return _Hook(self, index)

    async def submit(self, index: int, entity: str, op: BatchOp) -> BatchOutcome | None:
        """Register ``op`` and wait for its outcome; None when the batch was already sent
        (then the caller does the write itself, as alone)."""
        if self._closed:
            return None
        fut: asyncio.Future[BatchOutcome] = asyncio.get_running_loop().create_future()
        self._ops.append(_Op(index, entity, op, fut))
        arrived = self._arrived.get(index)
        if arrived is not None and not arrived.done():
            arrived.set_result(True)
        return await fut

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
                raise GatewayError(
                    f"{self.source}: write_batch gave {len(outcomes)} outcomes for {len(chunk)} ops"
                )
        except Exception as exc:
            # The whole call failed (or its answer was lost): each entry gets that failure, and
            # nothing is resent, since the backend may have applied some of it.
            for item in chunk:
                item.outcome.set_exception(exc)
            return True
        for item, outcome in zip(chunk, outcomes, strict=True):
            item.outcome.set_result(outcome)
        return any(o.error is not None or not o.executed for o in outcomes)


class _Hook:
    """Wraps the connector a handler gets, for the batch's source only."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: Batch, index: int) -> None:
        self._batch = batch
        self._index = index

    def __call__(self, source: Source, conn: Connector) -> Connector:
        if source.name != self._batch.source:
            return conn
        return BatchingConnector(conn, self._batch, self._index)


def _result(outcome: BatchOutcome, source: str) -> Record:
    if not outcome.executed:
        raise outcome.error or NotExecuted()
    if outcome.error is not None:
        raise outcome.error
    if outcome.record is None:
        raise GatewayError(f"{source}: a batch write succeeded without its record")
    return outcome.record


class BatchingConnector:
    """The connector as one entry's handler sees it: writes join the batch, the rest is the
    real connector's."""

    def __init__(self, conn: Connector, batch: Batch, index: int) -> None:
        self._conn = conn
        self._batch = batch
        self._index = index
        self.name = conn.name
        self.capabilities = conn.capabilities

    async def create(self, entity: str, data: Record) -> Record:
        outcome = await self._batch.submit(self._index, entity, BatchOp("create", data=data))
        if outcome is None:
            return await self._conn.create(entity, data)
        return _result(outcome, self.name)

    async def update(
        self, entity: str, record_id: str, data: Record, version: str | None
    ) -> Record:
        op = BatchOp("update", record_id=record_id, data=data, version=version)
        outcome = await self._batch.submit(self._index, entity, op)
        if outcome is None:
            return await self._conn.update(entity, record_id, data, version)
        return _result(outcome, self.name)

    async def delete(self, entity: str, record_id: str) -> None:
        outcome = await self._batch.submit(self._index, entity, BatchOp("delete", record_id))
        if outcome is None:
            return await self._conn.delete(entity, record_id)
        if not outcome.executed:
            raise outcome.error or NotExecuted()
        if outcome.error is not None:
            raise outcome.error
        return None

    # -- everything else is the real connector's ------------------------------------------------

    async def entities(self) -> list[EntityInfo]:
        return await self._conn.entities()

    async def describe(self, entity: str) -> EntityInfo:
        return await self._conn.describe(entity)

    def pushable(self, condition: Condition, field: FieldInfo | None) -> bool:
        return self._conn.pushable(condition, field)

    async def query(self, entity: str, pushed: PushedQuery, offset: int, limit: int) -> Page:
        return await self._conn.query(entity, pushed, offset, limit)

    async def count(self, entity: str, filter: Filter) -> int:
        return await self._conn.count(entity, filter)

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        return await self._conn.get(entity, record_id, fields)

    async def write_batch(
        self, entity: str, ops: Sequence[BatchOp], *, fail_on_first: bool = False
    ) -> list[BatchOutcome]:
        return await self._conn.write_batch(entity, ops, fail_on_first=fail_on_first)

    def open_file(
        self, entity: str, record_id: str, field: str
    ) -> AbstractAsyncContextManager[FileDownload]:
        return self._conn.open_file(entity, record_id, field)

    async def put_file(
        self, entity: str, record_id: str, field: str, *, filename: str, content_type: str,
        chunks: AsyncIterable[bytes], size: int | None,
    ) -> FileInfo:
        return await self._conn.put_file(entity, record_id, field, filename=filename,
                                         content_type=content_type, chunks=chunks, size=size)

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        await self._conn.delete_file(entity, record_id, field)

    async def check(self) -> None:
        await self._conn.check()

    async def aclose(self) -> None:
        return None  # the real connector is owned by its Source
