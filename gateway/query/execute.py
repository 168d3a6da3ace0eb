"""Run a planned Query against a Connector: fetch in backend-sized calls, finish, page, project.

``window``: only the asked page is fetched, in calls of at most ``caps.max_page`` run with bounded
concurrency, while ``count`` gives totalSize (a backend without counts is walked instead).
``ties``: the backend sorts by the first key only; ``gateway/query/ties.py`` completes the ties at
the page's edges, or raises ``Fallback`` (with the total it already counted) to run ``scan``.
``scan``: every record of the pushed (superset) query is walked, deduplicated by id, filtered by
the residual, sorted when the backend could not, then the page is cut; totalSize is what matched.
A short page ends a walk only when the backend said ``more=False`` (or answered nothing); a call
that does not advance (the same first record twice, or no records with ``more=True``) is a
BackendFailure rather than an endless or silently wrong walk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from gateway import budgets
from gateway.connector import Connector, EntityInfo, PushedQuery, Record
from gateway.errors import BackendFailure, SourceInfo, Unsupported
from gateway.i18n import Message
from gateway.observability import tracing
from gateway.query.evaluate import matches, sort_key, value_at
from gateway.query.model import Filter, Query
from gateway.query.plan import Plan, plan
from gateway.query.ties import Fallback, run_ties

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = ["QueryResult", "project", "run_all", "run_query"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One answered page: its records (projected), totalSize, the plan and the calls it cost."""

    records: list[Record]
    total: int
    plan: Plan
    backend_calls: int


def project(record: Record, fields: Iterable[str] | None) -> Record:
    """``record`` cut to ``fields`` plus ``id`` (first); a field asked but absent is null; a
    dotted field (``contactInformation.email``) is answered under that name with its value."""
    if fields is None:
        return record
    out: Record = {"id": record.get("id")}
    for name in fields:
        if name != "id":
            out[name] = value_at(record, name)
    return out


@contextmanager
def _first_failure() -> Iterator[None]:
    """Around a TaskGroup: raise the first failure itself, not an ExceptionGroup, so the
    gateway's error renderer sees a BackendFailure (the TaskGroup already cancelled the rest)."""
    try:
        yield
    except BaseExceptionGroup as eg:
        first: BaseException = eg
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


async def run_all(coros: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run together; on the first failure cancel the rest and raise that failure."""
    with _first_failure():
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    return [t.result() for t in tasks]


@dataclass
class _Budget:
    """What every walker of one query shares: the call count and the concurrency bound."""

    limit: asyncio.Semaphore
    calls: int = 0

    @staticmethod
    async def charge() -> None:
        """Before each backend call: the request's and consumer's budgets (gateway/budgets.py)."""
        spent = budgets.current()
        if spent is not None:
            spent.check_calls()
            await spent.take_calls()

    @staticmethod
    def read(n: int) -> None:
        spent = budgets.current()
        if spent is not None:
            spent.read(n)


class _Walker:
    """Backend calls for one pushed query: counted, capped at max_page, checked for progress."""

    def __init__(
        self, connector: Connector, entity: EntityInfo, pushed: PushedQuery, budget: _Budget
    ) -> None:
        self.connector = connector
        self.entity = entity
        self.pushed = pushed
        self.max_page = max(1, connector.capabilities.max_page)
        self.budget = budget
        self.end: int | None = None  # offset where the backend's data is known to end
        self.total: int | None = None  # the match count a query answer reported (page_totals)

    @property
    def calls(self) -> int:
        return self.budget.calls

    async def together(self, coros: Iterable[Coroutine[Any, Any, Any]]) -> list[Any]:
        """Run together; on the first failure cancel the rest and raise that failure."""
        return await run_all(coros)

    def variant(self, pushed: PushedQuery) -> _Walker:
        """A walker of another pushed query, sharing this one's call count and bound."""
        return _Walker(self.connector, self.entity, pushed, self.budget)

    def stuck(self, why: Message) -> BackendFailure:
        """The backend's paging does not advance: ``why`` says how it was seen."""
        return BackendFailure(
            "paging_stuck_why",
            {"source": self.connector.name, "entity": self.entity.name, "reason": why},
            source=SourceInfo(self.connector.name, None, None),
        )

    def too_large(self, max_scan: int, why: Message) -> Unsupported:
        """The query would scan more than ``max_scan`` records: ``why`` the backend cannot
        do it."""
        return Unsupported(
            "scan_too_large",
            {"limit": max_scan, "source": self.connector.name, "entity": self.entity.name,
             "reason": why},
        )

    async def count(self, filter: Filter | None = None) -> int:
        """How many records match the pushed filter (or ``filter``, which sets no end)."""
        await self.budget.charge()
        async with self.budget.limit:
            self.budget.calls += 1
            n = await self.connector.count(
                self.entity, self.pushed.filter if filter is None else filter
            )
        if filter is None:
            self._ended_at(n)
        return n

    def _ended_at(self, offset: int) -> None:
        self.end = offset if self.end is None else min(self.end, offset)

    async def fetch(self, start: int, stop: int) -> list[Record]:
        """Records ``start`` .. ``stop`` (fewer at the end of the data), in backend order."""
        return [r for run in await self.runs(start, stop) for r in run]

    async def runs(self, start: int, stop: int, *, unique: bool = True) -> list[list[Record]]:
        """``fetch``, one list per backend call (each a consistent snapshot of its positions).
        ``unique=False`` when the order has ties the backend may break differently per call,
        so two calls may rightly start with the same record (ties.py checks order instead)."""
        out: list[list[Record]] = []
        offset, last_first = start, None
        while offset < stop and (self.end is None or offset < self.end):
            limit = min(self.max_page, stop - offset)
            await self.budget.charge()
            async with self.budget.limit:
                self.budget.calls += 1
                page = await self.connector.query(self.entity, self.pushed, offset, limit)
            self.budget.read(len(page.records))
            if page.total is not None:
                self.total = page.total if self.total is None else self.total
                self._ended_at(page.total)
            records = page.records[:limit]
            if not records:
                if page.more:
                    raise self.stuck(Message("paging_empty_offset", {"offset": offset}))
                self._ended_at(offset)
                break
            first = _id(records[0], self)
            if unique and first == last_first:
                raise self.stuck(Message("paging_first_twice", {"id": first}))
            last_first = first
            out.append(records)
            offset += len(records)
            if page.more is False:
                self._ended_at(offset)
                break
        return out

    async def chunk_runs(self, start: int, stop: int) -> list[list[Record]]:
        """``runs`` split into max_page-sized ranges run concurrently, joined in order, for an
        order with ties (no first-record checks: see ``runs``)."""
        bounds = [(s, min(s + self.max_page, stop)) for s in range(start, stop, self.max_page)]
        parts = await run_all(self.runs(s, e, unique=False) for s, e in bounds)
        return [run for part in parts for run in part]

    async def chunks(self, start: int, stop: int) -> list[Record]:
        """``fetch`` split into max_page-sized ranges run concurrently, joined in order."""
        bounds = [(s, min(s + self.max_page, stop)) for s in range(start, stop, self.max_page)]
        parts = await run_all(self.fetch(s, e) for s, e in bounds)
        firsts = [_id(p[0], self) for p in parts if p]
        if len(set(firsts)) != len(firsts):
            raise self.stuck(Message("paging_same_start"))
        return _dedupe(r for p in parts for r in p)


def _id(record: Record, walker: _Walker) -> Any:
    if not isinstance(record, dict) or record.get("id") is None:
        raise BackendFailure(
            "record_without_id",
            {"source": walker.connector.name, "entity": walker.entity.name},
            source=SourceInfo(walker.connector.name, None, None),
        )
    return record["id"]


def _dedupe(records: Iterable[Record]) -> list[Record]:
    seen: set[Any] = set()
    out: list[Record] = []
    for r in records:
        key = r["id"] if isinstance(r["id"], str | int) else repr(r["id"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _too_large(walker: _Walker, the_plan: Plan, max_scan: int) -> Unsupported:
    why = []
    if the_plan.residual:
        why.append(Message("scan_cannot_filter"))
    if the_plan.sort_in_gateway:
        why.append(Message("scan_cannot_sort", {"reason": the_plan.sort_reason}))
    if not why:
        why.append(Message("scan_cannot_count"))
    if len(why) == 2:
        why = [Message("scan_cannot_both", {"first": why[0], "second": why[1]})]
    return walker.too_large(max_scan, why[0])


async def _scan(
    walker: _Walker, the_plan: Plan, max_scan: int, total: int | None = None
) -> list[Record]:
    """Every record of the pushed query, deduplicated, refusing more than ``max_scan``
    (``total``: the count, when already known)."""
    if walker.connector.capabilities.counts:
        n = await walker.count() if total is None else total
        walker.end = n
        if n > max_scan:
            raise _too_large(walker, the_plan, max_scan)
        spent = budgets.current()
        if spent is not None:  # the walk's cost is known now: refused before it, not inside
            spent.expect_records(n)
            spent.check_calls(-(-n // walker.max_page))
            await spent.prepay(-(-n // walker.max_page))
        return await walker.chunks(0, n)
    records = _dedupe(await walker.fetch(0, max_scan + 1))
    if len(records) > max_scan:
        raise _too_large(walker, the_plan, max_scan)
    return records


def _finish(
    records: list[Record], the_plan: Plan, query: Query, entity: EntityInfo,
    connector: Connector,
) -> list[Record]:
    """The scan's records filtered by the residual and sorted when the backend could not, under
    the backend's own collation (so the finished part agrees with the pushed part)."""
    c = connector.capabilities.order
    if the_plan.residual:
        records = [r for r in records if matches(r, the_plan.residual, entity, collation=c)]
    if the_plan.sort_in_gateway:
        records.sort(key=sort_key(query.order_by, entity, collation=c))
    return records


def _scan_slot() -> AbstractAsyncContextManager[None]:
    """One of the consumer's concurrent-scan slots (none outside a request)."""
    spent = budgets.current()
    return nullcontext() if spent is None else spent.scan()


async def run_query(
    connector: Connector,
    entity: EntityInfo,
    query: Query,
    *,
    max_scan: int = 100_000,
    concurrency: int = 4,
) -> QueryResult:
    """Answer ``query`` exactly, whatever part of it the backend can do itself."""
    spent = budgets.current()
    if spent is not None:  # a page reads at least its records: refused before any call
        spent.expect_records(query.page_size)
    caps = connector.capabilities
    the_plan = plan(query, entity, caps, connector.pushable)
    walker = _Walker(connector, entity, the_plan.pushed, _Budget(asyncio.Semaphore(
        max(1, concurrency))))
    known: int | None = None
    if the_plan.strategy == "ties":
        with _traced(the_plan, walker, query) as span:
            try:
                total, page = await run_ties(walker, the_plan, query, max_scan)
                return _answered(span, walker, query, the_plan, total, page)
            except Fallback as why:
                if span is not None:
                    span.set_attribute("recordgate.fallback", why.reason)
                the_plan = replace(plan(query, entity, caps, connector.pushable, ties=False),
                                   fallback=why.reason)
                walker, known = walker.variant(the_plan.pushed), why.total
    with _traced(the_plan, walker, query) as span:
        total, page = await _window_or_scan(walker, the_plan, query, max_scan, known)
        return _answered(span, walker, query, the_plan, total, page)


async def _window_or_scan(
    walker: _Walker, the_plan: Plan, query: Query, max_scan: int, known: int | None
) -> tuple[int, list[Record]]:
    """(totalSize, the page's records) of a ``window`` or ``scan`` plan (``known``: the total
    the ties strategy counted before it fell back)."""
    start, stop = query.offset, query.offset + query.page_size
    if the_plan.strategy == "window" and walker.connector.capabilities.page_totals:
        # The page's own answers carry the total: one call fewer than a separate count.
        page = await walker.chunks(start, stop)
        return (walker.total if walker.total is not None else await walker.count()), page
    if the_plan.strategy == "window":
        with _first_failure():
            async with asyncio.TaskGroup() as group:
                counting = group.create_task(walker.count())
                fetching = group.create_task(walker.chunks(start, stop))
        return counting.result(), fetching.result()
    async with _scan_slot():
        scanned = await _scan(walker, the_plan, max_scan, known)
    records = _finish(scanned, the_plan, query, walker.entity, walker.connector)
    return len(records), records[start:stop]


def _traced(
    the_plan: Plan, walker: _Walker, query: Query
) -> AbstractContextManager[Span | None]:
    """The strategy's span (gateway/observability/tracing.py), or a no-op when tracing is off."""
    if tracing.TRACER is None:
        return tracing.NO_SPAN
    return tracing.span(f"query.{the_plan.strategy}", {
        "recordgate.source": walker.connector.name,
        "recordgate.entity": walker.entity.name,
        "recordgate.strategy": the_plan.strategy,
        "recordgate.page_no": query.page_no,
        "recordgate.page_size": query.page_size,
    })


def _answered(
    span: Span | None, walker: _Walker, query: Query, the_plan: Plan, total: int,
    page: list[Record],
) -> QueryResult:
    if span is not None:
        span.set_attribute("recordgate.total_size", total)
        span.set_attribute("recordgate.backend_calls", walker.calls)
    return QueryResult(
        records=[project(r, query.fields) for r in page],
        total=total,
        plan=the_plan,
        backend_calls=walker.calls,
    )
