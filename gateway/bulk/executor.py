"""Run a bulk call's entries in order through the app's own middlewares and handlers.

Each entry is served by the same chain as a call sent alone (errors → consumers → limits →
handler; only the per-request context middleware is the bulk call's own), so it answers the same
status, headers and body. The plan, in request order:

* a run of consecutive writes on one source and entity that the backend batches is coalesced
  (``gateway/bulk/coalesce.py``);
* a run of consecutive reads runs concurrently, at most ``READS_PER_SOURCE`` per source;
* anything else runs alone.

With ``failOnFirst``, entries after the first failed one (status ≥ 400) are not run and answer
424 ``not_executed``; reads then run one by one, so that is true of them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway import budgets
from gateway.bulk.coalesce import WRITE_ROUTES, Batch, can_coalesce
from gateway.bulk.cost import records_asked
from gateway.bulk.entries import Prepared, RouteCache, entry_state, prepare
from gateway.bulk.model import BulkRequest, EntryResult, NotExecuted
from gateway.errors import GatewayError
from gateway.http.keys import SOURCES, STATE, RequestState
from gateway.http.lifecycle import NotSent, halted
from gateway.http.middleware.context import REQUEST_ID_HEADER, context_middleware
from gateway.http.middleware.errors import errors_middleware
from gateway.sources import CONNECTOR_HOOK

__all__ = ["READS_PER_SOURCE", "BulkRun", "BulkStats", "Emit", "run_bulk"]

READS_PER_SOURCE = 4  # concurrent reads of one bulk call on one source
_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
Emit = Callable[[EntryResult], Awaitable[None]]


@dataclass(slots=True)
class BulkStats:
    entries: int = 0
    chunks: int = 0  # native batch calls made for coalesced runs


@dataclass(slots=True)
class _Refusal:
    """An entry refused before it could become a call (bad url, method, data, identity)."""

    index: int
    error: GatewayError


_Entry = Prepared | _Refusal


@dataclass(slots=True)
class _Group:
    kind: str  # "batch" | "reads" | "single"
    entries: list[_Entry]
    source: str | None = None


def _result(resp: web.StreamResponse, request_id: str) -> EntryResult:
    headers = {k: v for k, v in resp.headers.items() if k.lower() not in _DROPPED_HEADERS}
    headers[REQUEST_ID_HEADER] = request_id
    body = resp.body if isinstance(resp, web.Response) else None
    contents: Any = None
    if isinstance(body, bytes) and body:
        if resp.content_type == "application/json":
            # The handler's own JSON bytes, embedded as they are: the entry's contents are
            # byte for byte what the call alone answers, and not parsed just to be re-encoded.
            contents = orjson.Fragment(body)
        else:
            contents = body.decode("utf-8", "replace")
    return EntryResult(resp.status, contents, headers)


class BulkRun:
    """One bulk call being executed."""

    def __init__(
        self, outer: web.Request, template: web.Request, bulk: BulkRequest,
        emit: Emit | None = None,
    ) -> None:
        self.outer = outer
        self.template = template
        self.bulk = bulk
        self.state: RequestState = outer[STATE]
        self.stats = BulkStats(entries=len(bulk.entries))
        self.results: list[EntryResult | None] = [None] * len(bulk.entries)
        self.failed = False
        # Every middleware of the app but the context one, which stays the bulk call's own
        # (its request id, its access line and metrics, its backend call count).
        self._middlewares = [m for m in outer.app.middlewares if m is not context_middleware]
        self._read_slots: dict[str | None, asyncio.Semaphore] = {}
        self._routes: RouteCache = {}
        # Results are handed to ``emit`` in request order as soon as they are known, and then
        # dropped, so a streamed answer never holds more than the entries running at once.
        self.emit = emit
        self._emitted = 0
        self._emitting = asyncio.Lock()
        self.budget = budgets.current()
        self.prepared: list[_Entry] | None = None

    # -- serving one entry -----------------------------------------------------------------

    async def _serve(self, req: web.Request) -> EntryResult:
        spent = self.budget.exhausted() if self.budget is not None else None
        if spent is not None:  # a budget of the bulk call is spent: the entry does not run
            return await self._refuse(spent, req)
        handler: Handler = req.match_info.handler
        for mw in reversed(self._middlewares):
            handler = partial(mw, handler=handler)
        return _result(await handler(req), self.state.request_id)

    async def _refuse(self, err: GatewayError, req: web.Request) -> EntryResult:
        async def raise_it(_: web.Request) -> web.StreamResponse:
            raise err

        return _result(await errors_middleware(req, raise_it), self.state.request_id)

    async def _flush(self) -> None:
        """Hand every result now known, in order from the first not yet handed, to ``emit``."""
        if self.emit is None:
            return
        async with self._emitting:
            while self._emitted < len(self.results):
                result = self.results[self._emitted]
                if result is None:
                    return
                self.results[self._emitted] = None
                self._emitted += 1
                await self.emit(result)

    async def _render(self, err: GatewayError, index: int, req: web.Request | None) -> None:
        """An error the entry answers without running (refused, not executed), rendered by the
        errors middleware like any other."""
        async def raise_it(_: web.Request) -> web.StreamResponse:
            raise err

        if req is None:
            req = self.template.clone()
        req[STATE] = entry_state(self.state, req[STATE].locale if STATE in req else None)
        resp = await errors_middleware(req, raise_it)
        self.results[index] = _result(resp, self.state.request_id)

    async def _not_executed(self, entry: _Entry, err: GatewayError | None = None) -> None:
        await self._render(err or NotExecuted(), entry.index,
                           entry.request if isinstance(entry, Prepared) else None)

    def _note(self, index: int, result: EntryResult) -> None:
        self.results[index] = result
        if result.status >= 400 and self.bulk.fail_on_first:
            self.failed = True

    # -- planning ------------------------------------------------------------------------------

    def _batch_key(self, entry: Prepared) -> tuple[str, str] | None:
        """(source, entity) when this entry's write can join a native batch."""
        action = WRITE_ROUTES.get(entry.route)
        st = self.state
        if action is None or entry.source is None or entry.entity is None:
            return None
        if st.consumer is None or not st.consumer.allows_source(entry.source):
            return None  # refused alone by the consumers middleware, with nothing to batch
        try:
            source = self.outer.app[SOURCES].get(entry.source)
        except GatewayError:
            return None
        caps = source.connector(st.org).capabilities
        if not can_coalesce(caps, action, fail_on_first=self.bulk.fail_on_first):
            return None
        return entry.source, entry.entity

    def _groups(self, entries: list[_Entry]) -> Iterator[_Group]:
        i = 0
        while i < len(entries):
            entry = entries[i]
            if isinstance(entry, Prepared):
                key = self._batch_key(entry)
                if key is not None:
                    j = i + 1
                    while j < len(entries):
                        nxt = entries[j]
                        if not isinstance(nxt, Prepared) or self._batch_key(nxt) != key:
                            break
                        j += 1
                    if j - i > 1:
                        yield _Group("batch", entries[i:j], key[0])
                        i = j
                        continue
                elif entry.is_read and not self.bulk.fail_on_first:
                    j = i + 1
                    while j < len(entries):
                        nxt = entries[j]
                        if not isinstance(nxt, Prepared) or not nxt.is_read:
                            break
                        j += 1
                    yield _Group("reads", entries[i:j])
                    i = j
                    continue
            yield _Group("single", [entry])
            i += 1

    # -- running ---------------------------------------------------------------------------

    async def _single(self, entry: _Entry) -> None:
        if isinstance(entry, _Refusal):
            await self._render(entry.error, entry.index, None)
            self.failed = self.failed or self.bulk.fail_on_first
            return
        self._note(entry.index, await self._serve(entry.request))

    async def _read(self, entry: Prepared) -> EntryResult:
        slot = self._read_slots.setdefault(entry.source, asyncio.Semaphore(READS_PER_SOURCE))
        async with slot:
            if halted():  # stopped while this entry waited for its turn: it was never sent
                await self._not_executed(entry, NotSent())
                result = self.results[entry.index]
                assert result is not None
                return result
            return await self._serve(entry.request)

    async def _reads(self, group: _Group) -> None:
        async def one(entry: Prepared) -> None:
            self._note(entry.index, await self._read(entry))
            await self._flush()  # each answer leaves as soon as those before it have

        await asyncio.gather(*(one(e) for e in group.entries if isinstance(e, Prepared)))

    async def _batch(self, group: _Group) -> None:
        entries = [e for e in group.entries if isinstance(e, Prepared)]
        assert group.source is not None
        conn = self.outer.app[SOURCES].get(group.source).connector(self.state.org)
        batch = Batch(group.source, conn, limit=conn.capabilities.batch_limit or len(entries),
                      fail_on_first=self.bulk.fail_on_first)
        # Each entry's handler runs up to its connector call (or to its own refusal). The first
        # runs alone so the entity's metadata is fetched once; the others then together, which
        # is safe as nothing before the write changes data. Ops are sent in entry order.
        started: list[tuple[Prepared, asyncio.Task[EntryResult], asyncio.Future[bool]]] = []
        for n, entry in enumerate(entries):
            arrived = batch.expect(entry.index)
            started.append((entry, asyncio.create_task(self._in_batch(batch, entry)), arrived))
            if n == 0:
                await arrived
        wrote = await asyncio.gather(*(arrived for _, _, arrived in started))
        stop_at: int | None = None
        if self.bulk.fail_on_first:
            for (entry, task, _), sent in zip(started, wrote, strict=True):
                if not sent and (await task).status >= 400:
                    stop_at = entry.index  # refused alone: nothing after it may run
                    break
        await batch.flush(stop_after=stop_at)
        self.stats.chunks += batch.chunks
        for entry, task, _ in started:
            result = await task
            if self.failed:
                # An earlier entry failed and the batch stopped there: this one did not run
                # (its own refusal, if any, is not what the caller needs to know).
                await self._not_executed(entry)
            else:
                self._note(entry.index, result)

    async def _in_batch(self, batch: Batch, entry: Prepared) -> EntryResult:
        CONNECTOR_HOOK.set(batch.hook(entry.index))  # this task's context only
        try:
            return await self._serve(entry.request)
        finally:
            batch.finished(entry.index)

    async def prepare(self) -> list[_Entry]:
        """Every entry as a routed request or its refusal; nothing runs yet."""
        prepared: list[_Entry] = []
        for index, spec in enumerate(self.bulk.entries):
            try:
                prepared.append(await prepare(index, spec, self.template, self.outer,
                                              self._routes))
            except GatewayError as err:
                prepared.append(_Refusal(index, err))
        self.prepared = prepared
        return prepared

    def check_budget(self, max_page_size: int) -> None:
        """Before anything runs: 413 when the query entries' pages alone cross the request's
        ``recordsPerRequest`` (``gateway/bulk/cost.py``)."""
        if self.budget is not None and self.prepared is not None:
            self.budget.expect_records(records_asked(self.prepared, max_page_size))

    async def run(self) -> list[EntryResult]:
        """Run the entries; the results not handed to ``emit``, in request order."""
        prepared = self.prepared if self.prepared is not None else await self.prepare()
        for group in self._groups(prepared):
            if self.failed or halted():
                # halted: past the deadline, consumer gone or shutting down (gateway/http/
                # lifecycle.py); these entries were never sent, unlike one cut off in flight.
                for entry in group.entries:
                    await self._not_executed(entry, None if self.failed else NotSent())
            elif group.kind == "batch":
                await self._batch(group)
            elif group.kind == "reads":
                await self._reads(group)
            else:
                await self._single(group.entries[0])
            await self._flush()
        await self._flush()
        return [r for r in self.results if r is not None]


async def run_bulk(
    outer: web.Request, template: web.Request, bulk: BulkRequest
) -> tuple[list[EntryResult], BulkStats]:
    """Every entry's result, in request order, and what it cost."""
    run = BulkRun(outer, template, bulk)
    return await run.run(), run.stats

