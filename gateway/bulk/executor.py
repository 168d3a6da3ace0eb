"""Run a bulk call's entries in order through the records service, each as its call alone.

An entry meets the checks a call alone meets in the middlewares, by the same functions and in
the same order: the bulk call's budgets not spent, its locale, its scopes
(``check_scopes``), its headers and size, one backend call charged to the bulk call's budget.
It then becomes a command of the records service (``gateway/records``), and its answer or
error is rendered by the functions that render a call alone, so it answers the same status,
headers and body. The bulk call's own middlewares (request context, API key, rate limit,
idempotency, lifecycle) cover its entries; nothing is replayed. The plan, in request order:

* a run of consecutive writes on one source and entity that the backend batches is coalesced:
  each write is planned by the service (every check, up to the connector call), the planned
  ops are sent as native batches (``gateway/bulk/coalesce.py``), and the service turns each
  op's outcome into the entry's answer;
* a run of consecutive reads runs concurrently, at most ``READS_PER_SOURCE`` per source;
* anything else runs alone.

With ``failOnFirst``, entries after the first failed one (status ≥ 400) are not run and answer
424 ``not_executed``; reads then run one by one, so that is true of them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import orjson
from aiohttp import web

from gateway import budgets
from gateway.bulk.coalesce import WRITE_ROUTES, Batch, can_coalesce
from gateway.bulk.cost import records_asked
from gateway.bulk.entries import Entry, Router, prepare
from gateway.bulk.model import BulkRequest, EntryResult, NotExecuted
from gateway.connector import BatchOutcome, BatchWriter, batch_writer, plays
from gateway.errors import GatewayError
from gateway.http.envelope import JSON_TYPE, dumps
from gateway.http.keys import CONFIG, RECORDS, SOURCES, STATE, RequestState
from gateway.http.lifecycle import NotSent, halted
from gateway.http.middleware.consumers import ROUTE_OPERATIONS, check_scopes, unknown_locale
from gateway.http.middleware.context import REQUEST_ID_HEADER
from gateway.http.middleware.errors import as_error, method_not_allowed, no_route, render_error
from gateway.http.middleware.headers import check_request_headers
from gateway.http.middleware.limits import charge_call, too_large
from gateway.records import (
    Answer,
    Caller,
    Create,
    Delete,
    Get,
    ListEntities,
    ListSources,
    PlannedWrite,
    Query,
    Update,
)
from gateway.records.commands import GET_ONE_PARAMS, object_body, plain_params

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


_Entry = Entry | _Refusal


@dataclass(slots=True)
class _Group:
    kind: str  # "batch" | "reads" | "single"
    entries: list[_Entry]
    source: str | None = None


class BulkRun:
    """One bulk call being executed."""

    def __init__(self, outer: web.Request, bulk: BulkRequest, emit: Emit | None = None) -> None:
        self.outer = outer
        self.bulk = bulk
        self.state: RequestState = outer[STATE]
        app = outer.app
        self.service = app[RECORDS]
        self.sources = app[SOURCES]
        self.server = app[CONFIG].server
        self.caller = Caller(self.state.consumer, self.state.org)
        self.stats = BulkStats(entries=len(bulk.entries))
        self.results: list[EntryResult | None] = [None] * len(bulk.entries)
        self.failed = False
        self._read_slots: dict[str | None, asyncio.Semaphore] = {}
        self._ok_headers = {"Content-Type": JSON_TYPE, REQUEST_ID_HEADER: self.state.request_id}
        # Results are handed to ``emit`` in request order as soon as they are known, and then
        # dropped, so a streamed answer never holds more than the entries running at once.
        self.emit = emit
        self._emitted = 0
        self._emitting = asyncio.Lock()
        self.budget = budgets.current()
        self.prepared: list[_Entry] | None = None

    # -- one entry, as its call alone ----------------------------------------------------------

    async def _admit(self, entry: Entry) -> None:
        """What the middlewares check of a call alone before its handler runs."""
        spent = self.budget.exhausted() if self.budget is not None else None
        if spent is not None:  # a budget of the bulk call is spent: the entry does not run
            raise spent
        if entry.locale_asked is not None:
            raise unknown_locale(entry.locale_asked)
        assert self.caller.consumer is not None  # the bulk call's key was matched
        check_scopes(self.caller.consumer, entry.source, entry.entity,
                     ROUTE_OPERATIONS.get(entry.route))
        check_request_headers(entry.headers)
        if len(entry.body) > self.server.maxBodyBytes:
            raise too_large(self.server.maxBodyBytes)
        await charge_call(self.budget, entry.route)

    def _write(self, entry: Entry) -> Create | Update | Delete:
        m, c = entry.match, self.caller
        if entry.route == "records.create":
            return Create(c, m["source"], m["entity"], object_body(entry.body))
        if entry.route == "records.delete":
            return Delete(c, m["source"], m["entity"], m["id"])
        return Update(c, m["source"], m["entity"], m["id"], object_body(entry.body),
                      entry.headers.get("If-Match"))

    async def _execute(self, entry: Entry) -> Answer:
        """The entry's handler: its command, run by the records service."""
        route, m, c, svc = entry.route, entry.match, self.caller, self.service
        if route in WRITE_ROUTES:
            return await svc.write(await svc.plan_write(self._write(entry)))
        if route == "records.query":
            return await svc.query(Query(c, m["source"], m["entity"],
                                         body=object_body(entry.body)))
        if route == "records.query_get":
            return await svc.query(Query(c, m["source"], m["entity"],
                                         params=plain_params(entry.query)))
        if route == "records.get":
            params = plain_params(entry.query, GET_ONE_PARAMS)
            return await svc.get(Get(c, m["source"], m["entity"], m["id"], params))
        if route == "sources.list":
            return await svc.list_sources(ListSources(c))
        if route == "sources.entities":
            return await svc.list_entities(ListEntities(c, m["source"]))
        raise GatewayError("no_bulk_form", {"route": route})  # a new /v1 route: a bug here

    async def _serve(self, entry: Entry) -> EntryResult:
        try:
            await self._admit(entry)
            if not entry.route:
                if entry.allowed:
                    err, headers = method_not_allowed(entry.method, entry.allowed)
                    return self._error(err, entry.locale, headers)
                return self._error(no_route(entry.path), entry.locale)
            return self._answer(await self._execute(entry))
        except Exception as exc:
            return self._error(exc, entry.locale)

    def _answer(self, answer: Answer) -> EntryResult:
        # Encoded now, as the call alone encodes its answer: an entry whose answer cannot be
        # encoded fails alone. Embedded as they are in the bulk answer, not encoded again.
        body = orjson.Fragment(dumps(answer.body))
        return EntryResult(answer.status, body, dict(self._ok_headers))

    def _error(
        self, exc: Exception, locale: str, headers: dict[str, str] | None = None
    ) -> EntryResult:
        resp = render_error(as_error(exc), locale=locale, request_id=self.state.request_id,
                            headers=headers)
        kept = {k: v for k, v in resp.headers.items() if k.lower() not in _DROPPED_HEADERS}
        kept[REQUEST_ID_HEADER] = self.state.request_id
        assert isinstance(resp.body, bytes)
        return EntryResult(resp.status, orjson.Fragment(resp.body), kept)

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

    def _not_executed(self, entry: _Entry, err: GatewayError | None = None) -> None:
        locale = entry.locale if isinstance(entry, Entry) else self.state.locale
        self.results[entry.index] = self._error(err or NotExecuted(), locale)

    def _note(self, index: int, result: EntryResult) -> None:
        self.results[index] = result
        if result.status >= 400 and self.bulk.fail_on_first:
            self.failed = True

    # -- planning ------------------------------------------------------------------------------

    def _batch_key(self, entry: Entry) -> tuple[str, str] | None:
        """(source, entity) when this entry's write can join a native batch."""
        action = WRITE_ROUTES.get(entry.route)
        consumer = self.caller.consumer
        if action is None or entry.source is None or entry.entity is None:
            return None
        if consumer is None or not consumer.allows_source(entry.source):
            return None  # refused alone by the scope check, with nothing to batch
        try:
            source = self.sources.get(entry.source)
        except GatewayError:
            return None
        conn = source.connector(self.caller.org, consumer)
        if not plays(conn, BatchWriter) or not can_coalesce(
                conn.capabilities, action, fail_on_first=self.bulk.fail_on_first):
            return None
        return entry.source, entry.entity

    def _groups(self, entries: list[_Entry]) -> Iterator[_Group]:
        i = 0
        while i < len(entries):
            entry = entries[i]
            if isinstance(entry, Entry):
                key = self._batch_key(entry)
                if key is not None:
                    j = i + 1
                    while j < len(entries):
                        nxt = entries[j]
                        if not isinstance(nxt, Entry) or self._batch_key(nxt) != key:
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
                        if not isinstance(nxt, Entry) or not nxt.is_read:
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
            self.results[entry.index] = self._error(entry.error, self.state.locale)
            self.failed = self.failed or self.bulk.fail_on_first
            return
        self._note(entry.index, await self._serve(entry))

    async def _read(self, entry: Entry) -> EntryResult:
        slot = self._read_slots.setdefault(entry.source, asyncio.Semaphore(READS_PER_SOURCE))
        async with slot:
            if halted():  # stopped while this entry waited for its turn: it was never sent
                return self._error(NotSent(), entry.locale)
            return await self._serve(entry)

    async def _reads(self, group: _Group) -> None:
        async def one(entry: Entry) -> None:
            self._note(entry.index, await self._read(entry))
            await self._flush()  # each answer leaves as soon as those before it have

        await asyncio.gather(*(one(e) for e in group.entries if isinstance(e, Entry)))

    async def _plan(self, entry: Entry) -> PlannedWrite | EntryResult:
        """The entry's write, checked as alone and planned by the service; or its refusal."""
        try:
            await self._admit(entry)
            return await self.service.plan_write(self._write(entry))
        except Exception as exc:
            return self._error(exc, entry.locale)

    async def _finish(
        self, entry: Entry, planned: PlannedWrite, sent: asyncio.Future[BatchOutcome]
    ) -> EntryResult:
        failure = sent.exception()  # the whole batch call failed: every op's entry gets it
        assert failure is None or isinstance(failure, Exception)
        try:
            answer = await self.service.finish(planned, failure or sent.result())
            return self._answer(answer)
        except Exception as exc:
            return self._error(exc, entry.locale)

    async def _batch(self, group: _Group) -> None:
        entries = [e for e in group.entries if isinstance(e, Entry)]
        assert group.source is not None
        conn = self.sources.get(group.source).connector(self.state.org, self.caller.consumer)
        batch = Batch(group.source, batch_writer(conn, group.source),
                      limit=conn.capabilities.batch_limit or len(entries),
                      fail_on_first=self.bulk.fail_on_first)
        # Each write is planned in entry order (the first fetches the entity's metadata, the
        # others find it cached); one refused while planned fails alone, and with failOnFirst
        # no op after it is sent. Then the ops go in native batches, in entry order.
        planned: list[tuple[Entry, PlannedWrite | EntryResult,
                            asyncio.Future[BatchOutcome] | None]] = []
        stop_at: int | None = None
        for entry in entries:
            plan = await self._plan(entry)
            if isinstance(plan, EntryResult):
                planned.append((entry, plan, None))
                if self.bulk.fail_on_first and stop_at is None:
                    stop_at = entry.index  # refused alone: nothing after it may run
                continue
            planned.append((entry, plan, batch.add(entry.index, plan.info.name, plan.op)))
        await batch.flush(stop_after=stop_at)
        self.stats.chunks += batch.chunks
        for entry, plan, future in planned:
            if self.failed:
                # An earlier entry failed and the batch stopped there: this one did not run
                # (its own refusal, if any, is not what the caller needs to know).
                self._not_executed(entry)
            elif future is None:
                assert isinstance(plan, EntryResult)
                self._note(entry.index, plan)
            else:
                assert isinstance(plan, PlannedWrite)
                self._note(entry.index, await self._finish(entry, plan, future))

    def prepare(self) -> list[_Entry]:
        """Every entry as its call or its refusal; nothing runs yet."""
        router = Router.of(self.outer.app)
        prepared: list[_Entry] = []
        for index, spec in enumerate(self.bulk.entries):
            try:
                prepared.append(prepare(index, spec, self.outer, router))
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
        prepared = self.prepared if self.prepared is not None else self.prepare()
        for group in self._groups(prepared):
            if self.failed or halted():
                # halted: past the deadline, consumer gone or shutting down (gateway/http/
                # lifecycle.py); these entries were never sent, unlike one cut off in flight.
                for entry in group.entries:
                    self._not_executed(entry, None if self.failed else NotSent())
            elif group.kind == "batch":
                await self._batch(group)
            elif group.kind == "reads":
                await self._reads(group)
            else:
                await self._single(group.entries[0])
            await self._flush()
        await self._flush()
        return [r for r in self.results if r is not None]


async def run_bulk(outer: web.Request, bulk: BulkRequest) -> tuple[list[EntryResult], BulkStats]:
    """Every entry's result, in request order, and what it cost."""
    run = BulkRun(outer, bulk)
    return await run.run(), run.stats
