"""Export (spec §11): every matching record of a query, walked page by page in its order.

:func:`open_export` does every check a query does (source, entity, the query's parse against
the entity's description, related-record scopes) and the export's own (``format``, ``after``,
an order the backend keeps), so that whatever is wrong answers as an ordinary error envelope
before a byte is sent. :meth:`Export.pages` then yields the records one backend call at a time,
filtered by what the backend could not evaluate, projected and cut to what the consumer may
see; it never holds more than one backend page, and makes no count call.

The walk, per order and backend (the planner in ``gateway/query/plan.py`` decides what is
pushed; nothing here asks which backend it is):

``keyset``   order ``id`` (ASC or DESC) and ``id > last`` (``<`` descending) pushed in every
             filter group: each call asks for the first ``max_page`` records after the last id
             seen, so a record changed meanwhile is neither skipped nor repeated and no call
             pays a deep offset (SugarCRM).
``walk``     order ``id`` DESC on a connector with its own id-offset walk (:class:`IdWalker`,
             Slingr's ``walk()``): the same guarantee through the backend's own cursor.
``offsets``  otherwise, when the backend sorts by the whole order itself: numeric offsets in
             that order (the Data Service, Slingr ascending, any order the backend pushes).
             A record created before the offset meanwhile repeats the previous page's last
             ones: those are dropped (the previous page's ids are kept); one deleted meanwhile
             shifts another one out unseen, as any offset walk does.

An order the backend cannot keep itself (Slingr sorts by one key: ``name`` then ``id`` needs
the gateway to sort) would need every record in memory: 422 ``unsupported``.

Budgets (``gateway/budgets.py``): an export holds one of the consumer's ``concurrentScans``
slots; each backend call is charged (``backendCallsPerRequest``, ``backendCallsPerSecond``),
each record read (``recordsPerRequest``) and each byte written (``responseBytesPerRequest``).
An export cut by one ends like any failure after the start (an incomplete control line or a
cut CSV), and resumes with ``after=``. The request deadline (``server.requestTimeout``) bounds
each backend call, not the whole export.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from gateway import budgets
from gateway.connector import Connector, EntityInfo, PushedQuery, Record
from gateway.errors import BackendFailure, Detail, InvalidRequest, SourceInfo, Unsupported
from gateway.i18n import Message
from gateway.query.evaluate import matches
from gateway.query.execute import project
from gateway.query.model import Condition, Filter, Group, Query
from gateway.query.parse import parse_params
from gateway.query.plan import Plan, decisive, full_order, plan
from gateway.related import check_query, cut_related
from gateway.upstream import deadline

if TYPE_CHECKING:
    from gateway.config.model import Consumer, ServerConfig
    from gateway.sources import Source, Sources

__all__ = ["EXPORT_PARAMS", "FORMATS", "Export", "Format", "IdWalker", "open_export", "scan_slot"]

Format = Literal["ndjson", "csv"]
FORMATS: tuple[Format, ...] = ("ndjson", "csv")
# The query-string parameters of an export besides orgId/locale (pageSize/pageNo: no pages).
EXPORT_PARAMS = frozenset({"filter", "orderBy", "fields", "format", "after"})


@runtime_checkable
class IdWalker(Protocol):
    """A connector's own full walk in id order through id offsets, newest (highest id) first
    (Slingr's ``walk()``): pages of every record matching a filter it evaluates whole."""

    def walk(
        self, entity: str, filter: Filter = (), fields: tuple[str, ...] | None = None,
        *, size: int | None = None,
    ) -> AsyncIterator[list[Record]]: ...


def _bad(path: str, key: str, **params: Any) -> InvalidRequest:
    return InvalidRequest(key, params, details=[Detail(path, key, params)])


def _and_each(filter: Filter, cond: Condition) -> Filter:
    """``filter`` AND ``cond``: ``cond`` added to every group (one group when there is none)."""
    if not filter:
        return (Group((cond,)),)
    return tuple(Group((*g.conditions, cond)) for g in filter)


def _id_order(query: Query) -> bool | None:
    """Whether the order is ``id`` alone: None when it is not, else whether descending."""
    order = decisive(full_order(query.order_by))
    if len(order) == 1 and order[0].field == "id":
        return order[0].descending
    return None


@dataclass
class Export:
    """A checked export, ready to walk: where, what, in which format and columns."""

    source: Source
    conn: Connector
    info: EntityInfo
    query: Query
    format: Format
    columns: tuple[str, ...]  # CSV's header: ``id`` then the fields asked (or described)
    consumer: Consumer | None
    request_timeout: float
    plan: Plan
    after: str | None = None  # resume after this id (orders by id only)
    strategy: str = "offsets"
    calls: int = 0

    # -- the walk --------------------------------------------------------------------------

    async def _charge(self) -> None:
        spent = budgets.current()
        if spent is not None:
            spent.check_calls()
            await spent.take_calls()
        self.calls += 1

    @staticmethod
    def _read(n: int) -> None:
        spent = budgets.current()
        if spent is not None:
            spent.read(n)

    async def _query(self, pushed: PushedQuery, offset: int) -> tuple[list[Record], bool | None]:
        """One backend call under a deadline of its own (an export outlives requestTimeout)."""
        await self._charge()
        token = deadline.DEADLINE.set(time.monotonic() + self.request_timeout)
        try:
            with self.source.observe():
                page = await self.conn.query(self.info, pushed, offset,
                                             self.conn.capabilities.max_page)
        finally:
            deadline.DEADLINE.reset(token)
        self._read(len(page.records))
        return page.records, page.more

    def _stuck(self, record_id: Any) -> BackendFailure:
        name = self.conn.name
        return BackendFailure(
            "paging_stuck_why",
            {"source": name, "entity": self.info.name,
             "reason": Message("paging_first_twice", {"id": record_id})},
            source=SourceInfo(name, None, None),
        )

    async def _shown(self, raw: list[Record]) -> list[Record]:
        """A backend page as the consumer gets it: the residual applied, projected, cut."""
        collation = self.conn.capabilities.order
        if self.plan.residual:
            raw = [r for r in raw
                   if matches(r, self.plan.residual, self.info, collation=collation)]
        out = [project(r, self.query.fields) for r in raw]
        return await cut_related(out, self.consumer, self.source.name, self.info,
                                 self.conn.describe)

    def _keyset_plan(self, last: Any, descending: bool) -> Plan | None:
        """The plan of "after ``last``" when the backend evaluates that condition in every
        group itself (else None: the walk continues by offsets)."""
        cond = Condition("id", "<" if descending else ">", last)
        q = replace(self.query, filter=_and_each(self.query.filter, cond))
        caps = self.conn.capabilities
        p = plan(q, self.info, caps, self.conn.pushable, ties=False)
        if p.sort_in_gateway or not p.pushed.filter:
            return None
        if any(cond not in g.conditions for g in p.pushed.filter):
            return None
        return p

    def _past(self, descending: bool) -> Callable[[Record], bool]:
        """Whether a record lies after ``after`` in the backend's id order (ids compare by
        ``Collation.id_key``: SQL Server orders GUIDs by their last bytes first)."""
        key = self.conn.capabilities.order.id_key or (lambda v: v)
        edge = key(self.after)
        if descending:
            return lambda r: bool(key(r.get("id")) < edge)
        return lambda r: bool(key(r.get("id")) > edge)

    async def pages(self) -> AsyncIterator[list[Record]]:
        """The records, one backend call's worth at a time (empty pages skipped)."""
        descending = _id_order(self.query)
        past = None if self.after is None else self._past(bool(descending))
        if descending and isinstance(self.conn, IdWalker):
            self.strategy = "walk"
            async for page in self._walk():
                if past is not None:  # newest first from the top: skip down to ``after``
                    page = [r for r in page if past(r)]
                    past = None if page else past
                if page:
                    yield page
            return
        offset, previous = 0, frozenset[Any]()
        keyset: bool | None = None if descending is not None else False
        last: Any = self.after
        if last is not None:  # resume: seek right there when the backend can
            keyset = self._keyset_plan(last, bool(descending)) is not None
            self.strategy = "keyset" if keyset else "offsets"
        pushed = self.plan.pushed
        while True:
            if keyset and last is not None:
                kplan = self._keyset_plan(last, bool(descending))
                if kplan is None:  # this id cannot be pushed (never seen): no silent guess
                    raise self._stuck(last)
                raw, more = await self._query(kplan.pushed, 0)
            else:
                raw, more = await self._query(pushed, offset)
            if not raw:
                return
            ids = [r.get("id") for r in raw]
            fresh = [r for r in raw if r.get("id") not in previous]
            if not fresh or (keyset and ids[-1] == last):
                raise self._stuck(ids[0])
            offset += len(raw)
            previous = frozenset(ids)
            last = ids[-1]
            if keyset is None:  # decided once, on the first id the backend gave
                keyset = self._keyset_plan(last, bool(descending)) is not None
                self.strategy = "keyset" if keyset else "offsets"
            if past is not None and not keyset:  # an offset walk from the top to ``after``
                fresh = [r for r in fresh if past(r)]
                past = None if fresh else past
            shown = await self._shown(fresh)
            if shown:
                yield shown
            if more is False:
                return

    async def _walk(self) -> AsyncIterator[list[Record]]:
        assert isinstance(self.conn, IdWalker)
        pushed = self.plan.pushed
        walker = self.conn.walk(self.info.name, pushed.filter, pushed.fields)
        try:
            while True:
                await self._charge()
                token = deadline.DEADLINE.set(time.monotonic() + self.request_timeout)
                try:
                    with self.source.observe():
                        raw = await anext(walker, None)
                finally:
                    deadline.DEADLINE.reset(token)
                if raw is None:
                    return
                self._read(len(raw))
                yield await self._shown(raw)
        finally:
            await walker.aclose()  # type: ignore[attr-defined]


def scan_slot() -> AbstractAsyncContextManager[None]:
    """One of the consumer's concurrent-scan slots for the export's duration (none outside a
    request)."""
    spent = budgets.current()
    return nullcontext() if spent is None else spent.scan()


def _format(params: Mapping[str, str]) -> Format:
    raw = params.get("format", "ndjson")
    for f in FORMATS:
        if raw == f:
            return f
    raise _bad("format", "export_bad_format", value=raw[:40], allowed=", ".join(FORMATS))


def _columns(query: Query, info: EntityInfo) -> tuple[str, ...]:
    """CSV's columns: ``id`` and the fields asked, else every described top-level field."""
    named = query.fields if query.fields is not None else tuple(
        n for n in info.fields if "." not in n)
    columns = ("id", *(n for n in dict.fromkeys(named) if n != "id"))
    if len(columns) == 1 and query.fields is None:
        raise _bad("fields", "export_csv_needs_fields", entity=info.name)
    return columns


async def open_export(
    sources: Sources, server: ServerConfig, consumer: Consumer | None, org: str | None,
    source_name: str, entity: str, params: Mapping[str, str],
) -> Export:
    """Every check of the export (404, 400, 403, 422), before any record is read."""
    fmt = _format(params)
    source = sources.get(source_name)
    if source.type == "view":  # spec §12 lists export; this gateway answers view reads only
        raise Unsupported("view_export_unavailable", {"source": source_name, "entity": entity})
    conn = source.connector(org, consumer)
    with source.observe():
        info = await conn.describe(entity)
    q = parse_params({k: v for k, v in params.items() if k in ("filter", "orderBy", "fields")},
                     max_page_size=server.maxPageSize, entity=info)
    await check_query(q, consumer, source.name, info, conn.describe)
    descending = _id_order(q)
    after = params.get("after")
    if after is not None:
        if descending is None:
            raise _bad("after", "export_after_needs_id_order")
        if not after or not conn.capabilities.id_shape.accepts(after):
            raise _bad("after", "export_bad_after",
                       shape=conn.capabilities.id_shape.description)
    the_plan = plan(q, info, conn.capabilities, conn.pushable, ties=False)
    if the_plan.sort_in_gateway:
        raise Unsupported("export_order_unsupported",
                          {"source": source.name, "entity": info.name,
                           "reason": the_plan.sort_reason or ""})
    columns = _columns(q, info) if fmt == "csv" else ()
    return Export(source, conn, info, q, fmt, columns, consumer, server.requestTimeout,
                  the_plan, after)

