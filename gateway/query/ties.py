"""The ``ties`` strategy: exact pages of a multi-key order from a backend that sorts by one key.

Why it works. Sorting by the first key k1 alone fixes which k1 *value* sits at every position,
even though the records sharing a value (a group) may come in another order on every call. Groups
are contiguous and sit where they sit in the full order (user keys + id), which only reorders
records inside a group. So for the page at positions [s, e), with T the total:

1. Round 1, at once: count the pushed filter (T) and fetch positions s..e sorted by k1, in calls
   of at most max_page. Each call is a consistent snapshot of its own positions, so a group that
   lies strictly inside one call's positions came whole. A value at a call's edge (its first
   value unless the call starts the data, its last unless it ends the data) may have members
   elsewhere, or repeated by another call: those are the *boundary values*.
2. Round 2, at once: fetch each boundary group whole, with the pushed filter AND ``k1 == v``
   (``isNull`` for null; the backend's own collation decides equality, as evaluate.py does with
   ``caps.collation``), walked by ``id`` so its own paging is stable.
3. Every record from the page's first value a to its last value b is now known exactly: sort them
   by the full order (``evaluate.sort_key``) and cut the page at P, the position of group a's
   first member. P = 0 when s = 0; else P = s + (window positions holding a) - |group a| when the
   window also holds a later value; else (the page lies inside one group) P = T - |group a| when
   the window reaches the end of the data, else P = count(filter AND k1 before a), cross-checked:
   P + |group a| + count(filter AND k1 after a) must be T. "Before" respects the key's direction
   and where nulls sort (first in ascending order when the collation's ``nulls_first``; DESC
   reverses all).

Cost rule: after round 1 T is known. Round 2 needs at least one call per boundary value (ceil of
the members already seen / max_page), plus 2 counts for a page inside one group. When a scan
(ceil(T / max_page) fetches, T <= max_scan) needs fewer calls than that, or a boundary value
cannot be pushed (``Connector.pushable``, operator missing, value not of the field's type), or a
cross-check fails (the data changed between calls, or the backend's ``==`` disagrees with its
order), this raises :class:`Fallback` and the executor scans with T already counted. A boundary
group larger than max_scan is ``Unsupported``, like a scan that large. Values going backwards in
round 1 mean the backend's paging is broken: ``paging_stuck``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Coroutine, Iterable, Sequence
from datetime import UTC, date, datetime
from math import ceil
from typing import Any, NoReturn, Protocol

from gateway.connector import Connector, EntityInfo, FieldInfo, PushedQuery, Record
from gateway.errors import BackendFailure, Unsupported
from gateway.i18n import Message
from gateway.query.evaluate import coerce, is_null, sort_key, text, value_at
from gateway.query.model import Condition, Filter, Group, Operator, OrderKey, Query, Scalar
from gateway.query.plan import Plan, stable_order

__all__ = ["Fallback", "Walker", "run_ties"]


class Walker(Protocol):
    """The executor's backend caller (``gateway/query/execute.py``) as this module uses it."""

    connector: Connector
    entity: EntityInfo
    max_page: int

    def variant(self, pushed: PushedQuery) -> Walker: ...
    def stuck(self, why: Message) -> BackendFailure: ...
    def too_large(self, max_scan: int, why: Message) -> Unsupported: ...
    async def together(self, coros: Iterable[Coroutine[Any, Any, Any]]) -> list[Any]: ...
    async def count(self, filter: Filter | None = None) -> int: ...
    async def fetch(self, start: int, stop: int) -> list[Record]: ...
    async def chunks(self, start: int, stop: int) -> list[Record]: ...
    async def chunk_runs(self, start: int, stop: int) -> list[list[Record]]: ...


class Fallback(Exception):
    """Scanning is cheaper or the only exact way; ``total`` is the count already made."""

    def __init__(self, reason: str, total: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.total = total


def _rid(record: Record) -> Any:
    rid = record.get("id")
    return rid if isinstance(rid, str | int) else repr(rid)


def _value(raw: Any, info: FieldInfo) -> Scalar:
    """A condition value the backend compares exactly like the record value ``raw``.

    ValueError when ``raw`` is not of the field's type: such a value sorts after the typed ones
    but is never ``<`` or ``>`` anything, so no range condition can stand for it. A datetime
    becomes its full instant: a date-only value would mean its whole day to ``==`` and ``>``.
    """
    if isinstance(raw, list | tuple | dict) and info.type != "json":
        raise ValueError("a list value")
    typed = coerce(raw, info.type)
    if info.type == "datetime":
        if not isinstance(typed, datetime):
            typed = datetime(typed.year, typed.month, typed.day, tzinfo=UTC)
        return typed.isoformat()
    if isinstance(typed, date):
        return typed.isoformat()
    if isinstance(raw, str | int | float | bool):
        return raw
    return text(raw)


class _Ties:
    """One page of the ties strategy (module docstring)."""

    def __init__(self, walker: Walker, the_plan: Plan, query: Query, max_scan: int) -> None:
        self.walker = walker
        self.caps = walker.connector.capabilities
        self.key = the_plan.pushed.order_by[0]
        info = walker.entity.field(self.key.field)
        if info is None:  # the planner only picks ties for a described k1
            raise ValueError(f"ties needs field metadata for {self.key.field}")
        self.info = info
        self.filter = the_plan.pushed.filter
        self.fields = the_plan.pushed.fields
        self.group_order = (OrderKey("id"),) if stable_order(walker.entity, self.caps) else ()
        c = self.caps.order  # the backend's collation: its == and order, mirrored here
        self._value_of = sort_key((OrderKey(self.key.field),), walker.entity, collation=c)
        self._rank = sort_key((self.key,), walker.entity, collation=c)
        self.full = sort_key(query.order_by, walker.entity, collation=c)
        # Nulls sit at the start of this key's order: ascending with nulls first, or descending
        # with nulls last (descending is the exact reverse of ascending).
        self.nulls_at_start = c.nulls_first != self.key.descending
        self.start, self.stop = query.offset, query.offset + query.page_size
        self.max_scan = max_scan
        self.mp = walker.max_page
        self.total = 0

    def group(self, record: Record) -> Any:
        """The record's k1 value as the order sees it: equal here means one tie group."""
        return self._value_of(record)[0]

    async def run(self) -> tuple[int, list[Record]]:
        s, e, walker = self.start, self.stop, self.walker
        total, runs = await walker.together([walker.count(), walker.chunk_runs(s, e)])
        self.total = total
        window: list[Record] = [r for run in runs for r in run]
        if not window:
            if s < total:
                raise Fallback("the backend returned no records below its own count", total)
            return total, []
        self._check_order(window)
        end = s + len(window)
        if end > total or end < min(e, total):
            raise Fallback("the window and the count disagree (did the data change?)", total)
        boundary = self._boundary(runs)
        seen = Counter(self.group(r) for r in window)
        a, b = self.group(window[0]), self.group(window[-1])
        inside_one = a == b and s > 0 and end < total
        need = sum(max(1, ceil(seen[v] / self.mp)) for v in boundary) + 2 * inside_one
        scan = ceil(total / self.mp)
        if boundary and total <= self.max_scan and scan < need:
            self._fallback(f"a scan needs {scan} backend calls, completing the ties at least "
                           f"{need}")
        # Every condition is checked before any call starts: a Fallback leaves nothing behind.
        equal = [self._condition(self._equal(r)) for r in boundary.values()]
        sides = [self._side(window[0], before=x) for x in (True, False)] if inside_one else []
        done = await walker.together(
            [*(self._members(c) for c in equal), *(self._count(side) for side in sides)]
        )
        members = {v: [r for r in got if self.group(r) == v]
                   for v, got in zip(boundary, done, strict=False)}
        self._check_members(window, members)
        known = _dedupe([*(r for group in members.values() for r in group),
                         *(r for r in window if self.group(r) not in members)])
        known.sort(key=self.full)
        if s == 0:
            first = 0
        elif a != b:
            first = s + seen[a] - len(members[a])
        elif end >= total:
            first = total - len(members[a])
        else:
            first, after = done[-2], done[-1]
            if first + len(members[a]) + after != total:
                self._fallback(f"records before, equal to and after one {self.key.field} "
                               f"value do not add up to the count")
        if not (0 <= first <= s and end <= first + len(known) <= total):
            self._fallback("the boundary groups and the count disagree (did the data change?)")
        return total, known[s - first:e - first]

    def _fallback(self, reason: str) -> NoReturn:
        raise Fallback(reason, self.total)

    def _check_order(self, window: Sequence[Record]) -> None:
        ranks = [self._rank(r)[0] for r in window]
        for i in range(1, len(ranks)):
            if ranks[i] < ranks[i - 1]:
                raise self.walker.stuck(Message("paging_order_backwards", {
                    "field": self.key.field, "offset": self.start + i}))

    def _boundary(self, runs: list[list[Record]]) -> dict[Any, Record]:
        """k1 values at an edge of a call that does not start or end the data → a record."""
        out: dict[Any, Record] = {}
        pos = self.start
        for run in runs:
            if pos > 0:
                out.setdefault(self.group(run[0]), run[0])
            pos += len(run)
            if pos < self.total:
                out.setdefault(self.group(run[-1]), run[-1])
        return out

    def _check_members(self, window: list[Record], members: dict[Any, list[Record]]) -> None:
        ids = {v: {_rid(r) for r in group} for v, group in members.items()}
        for r in window:
            v = self.group(r)
            if v in ids and _rid(r) not in ids[v]:
                self._fallback(f"the backend's == on {self.key.field} misses a record its "
                               f"order puts in that group")

    def _condition(self, cond: Condition) -> Condition:
        """``cond`` when the backend can evaluate it, else Fallback."""
        if cond.operator not in self.caps.operators or not self.walker.connector.pushable(
            self.walker.entity, cond
        ):
            shown = cond.operator if cond.value is None else f"{cond.operator} {cond.value!r}"
            self._fallback(f"the backend cannot filter on {cond.field} {shown}")
        return cond

    def _raw(self, record: Record) -> Scalar:
        try:
            return _value(value_at(record, self.key.field), self.info)
        except (ValueError, TypeError):
            self._fallback(f"a {self.key.field} value at the page's edge is not a "
                           f"{self.info.type}")

    def _equal(self, record: Record) -> Condition:
        if is_null(value_at(record, self.key.field)):
            return Condition(self.key.field, "isNull")
        return Condition(self.key.field, "==", self._raw(record))

    def _side(self, record: Record, *, before: bool) -> list[Condition]:
        """Disjoint conditions matching what sorts strictly before (after) ``record``'s k1."""
        name = self.key.field
        nulls_here = self.nulls_at_start == before  # do the nulls lie on that side?
        if is_null(value_at(record, name)):
            return [] if nulls_here else [self._condition(Condition(name, "isNotNull"))]
        op: Operator = "<" if before != self.key.descending else ">"
        out = [self._condition(Condition(name, op, self._raw(record)))]
        if nulls_here:
            out.append(self._condition(Condition(name, "isNull")))
        return out

    def _and(self, cond: Condition) -> Filter:
        if not self.filter:
            return (Group((cond,)),)
        return tuple(Group((*g.conditions, cond)) for g in self.filter)

    async def _count(self, parts: list[Condition]) -> int:
        """How many pushed matches meet any of ``parts`` (disjoint, so counts add up)."""
        filters = [self._and(c) for c in parts]
        if len(filters) > 1 and self.caps.or_groups:
            filters = [tuple(g for f in filters for g in f)]
        counts = await self.walker.together(self.walker.count(f) for f in filters)
        return sum(counts)

    async def _members(self, cond: Condition) -> list[Record]:
        """Every pushed match with this k1 value, walked in a stable order."""
        walker = self.walker.variant(
            PushedQuery(filter=self._and(cond), order_by=self.group_order, fields=self.fields)
        )
        got = await walker.fetch(0, self.mp)
        if len(got) >= self.mp:
            n = await walker.count()
            if n > self.max_scan:
                raise walker.too_large(self.max_scan, Message(
                    "scan_cannot_sort_ties", {"count": n, "field": self.key.field}))
            got += await walker.chunks(self.mp, n)
        return _dedupe(got)


def _dedupe(records: Iterable[Record]) -> list[Record]:
    return list({_rid(r): r for r in records}.values())


async def run_ties(
    walker: Walker, the_plan: Plan, query: Query, max_scan: int
) -> tuple[int, list[Record]]:
    """(totalSize, the page's records) for a ``ties`` plan; Fallback when a scan is better."""
    return await _Ties(walker, the_plan, query, max_scan).run()
