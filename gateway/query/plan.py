"""Split a Query by a backend's Capabilities: what is pushed down, what the gateway finishes.

Filter: a condition is pushable iff its operator is in ``caps.operators`` and the connector's
``pushable(entity, condition)`` says yes. When every condition is pushable and the backend can do
OR across groups (or there is at most one group), the filter is pushed whole and nothing is
residual. Otherwise the backend gets a superset (the OR of each group's pushable conditions, when
every group has one and the OR is expressible; else no filter at all) and the gateway re-checks the
whole user filter on what comes back.

Order: the user's keys, then ``id`` ascending unless ``id`` is already a key (keys after ``id``
never decide anything, so a one-key backend is not asked for them). It is pushed when the backend
sorts, every key's field is sortable and single-valued, and the backend can sort by that many keys.
Otherwise the gateway sorts, and the backend is asked for ``id`` ascending alone (when it can sort
at all): the gateway then reads every matching record anyway, and a fixed backend order keeps that
offset walk from skipping or repeating records between calls.

Strategy:
  ``window``  nothing residual, order pushed, the backend counts: fetch only the asked page.
  ``ties``    nothing residual, the backend counts, sorts by one key only, and the first key k1 is
              a described, filterable, sortable, single-valued field with ``==``, ``<`` and ``>``
              among its operators: the backend sorts by k1 alone, the gateway completes the ties
              at the page's edges (``gateway/query/ties.py``, which may still switch to ``scan``
              when that is cheaper or a boundary value cannot be filtered on).
  ``scan``    otherwise: walk every match of the pushed query, finish in the gateway (also when
              only the count is missing: totalSize then needs the walk anyway).

What a plan costs in backend calls, and ``explain=true``'s answer, are in
``gateway/query/cost.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from typing import Any, Literal, TypeAlias

from gateway.connector import Capabilities, EntityInfo, PushedQuery
from gateway.query.model import Condition, Filter, Group, OrderKey, Query

__all__ = [
    "ONE_KEY", "Plan", "Strategy", "decisive", "filter_to_json", "full_order", "plan",
    "stable_order",
]

Pushable = Callable[[EntityInfo, Condition], bool]
Strategy: TypeAlias = Literal["window", "ties", "scan"]
ONE_KEY = "backend sorts by one key only"
# What the ties strategy needs on k1 before it is worth trying (null boundaries also need
# isNull/isNotNull; those, and each boundary value, are checked when the page is known).
_TIES_OPERATORS = frozenset({"==", "<", ">"})


def full_order(order_by: tuple[OrderKey, ...]) -> tuple[OrderKey, ...]:
    """The user's order with the ``id`` tie-break appended (``id`` ascending when none given)."""
    if any(k.field == "id" for k in order_by):
        return order_by
    return (*order_by, OrderKey("id"))


def decisive(order: tuple[OrderKey, ...]) -> tuple[OrderKey, ...]:
    """``order`` cut after its ``id`` key: ids are unique, so later keys never decide."""
    for i, key in enumerate(order):
        if key.field == "id":
            return order[: i + 1]
    return order


def filter_to_json(filter: Filter) -> list[list[dict[str, Any]]]:
    """The filter in the API's JSON shape (for logs and explain output)."""
    return [
        [
            {"field": c.field, "operator": c.operator}
            | ({} if c.value is None else {"value": list(c.value) if isinstance(c.value, tuple)
                                            else c.value})
            for c in g.conditions
        ]
        for g in filter
    ]


@dataclass(frozen=True, slots=True)
class Plan:
    """How one query runs: the pushed part, the residual filter, who sorts, which strategy."""

    pushed: PushedQuery
    residual: Filter
    sort_in_gateway: bool
    strategy: Strategy
    extra_fields: tuple[str, ...]
    order_by: tuple[OrderKey, ...]  # the full order (with the id tie-break) the answer follows
    not_pushed: tuple[str, ...] = ()  # paths of conditions the backend cannot evaluate
    sort_reason: str | None = None  # why the gateway sorts, when it does
    backend_calls: str = ""  # what one page costs in backend calls under this strategy
    fallback: str | None = None  # why the executor ran ``scan`` instead of the planned ``ties``

    def explain(self) -> dict[str, Any]:
        """The split, as plain data for logs and debugging."""
        return {
            "strategy": self.strategy,
            "pushed": {
                "filter": filter_to_json(self.pushed.filter),
                "orderBy": [_order_json(k) for k in self.pushed.order_by],
                "fields": list(self.pushed.fields) if self.pushed.fields is not None else None,
            },
            "residual": filter_to_json(self.residual),
            "notPushed": list(self.not_pushed),
            "sortInGateway": self.sort_in_gateway,
            "sortReason": self.sort_reason,
            "orderBy": [_order_json(k) for k in self.order_by],
            "extraFields": list(self.extra_fields),
            "backendCalls": self.backend_calls,
            "fallback": self.fallback,
        }


def _order_json(key: OrderKey) -> dict[str, str]:
    return {"field": key.field, "order": "DESC" if key.descending else "ASC"}


def _split_filter(
    query: Query, entity: EntityInfo, caps: Capabilities, pushable: Pushable
) -> tuple[Filter, Filter, tuple[str, ...]]:
    """(pushed, residual, paths of conditions not pushed)."""
    parts: list[tuple[Condition, ...]] = []
    missing: list[str] = []
    for i, group in enumerate(query.filter):
        part: list[Condition] = []
        for j, cond in enumerate(group.conditions):
            if cond.operator in caps.operators and pushable(entity, cond):
                part.append(cond)
            else:
                missing.append(f"filter[{i}][{j}]")
        parts.append(tuple(part))
    or_ok = caps.or_groups or len(query.filter) <= 1
    if not missing and or_ok:
        return query.filter, (), ()
    if or_ok and all(parts):
        superset: Filter = tuple(Group(p) for p in parts)
    else:
        superset = ()
    return superset, query.filter, tuple(missing)


def _sort_problem(
    order: tuple[OrderKey, ...], entity: EntityInfo, caps: Capabilities
) -> str | None:
    if not caps.sort:
        return "backend cannot sort"
    for key in order:
        info = entity.field(key.field)
        if info is not None and not info.sortable:
            return f"field {key.field} is not sortable on the backend"
        if info is not None and info.multivalued:
            return f"field {key.field} holds several values"
    if not caps.multi_sort and len(decisive(order)) > 1:
        return ONE_KEY
    return None


def _ties_fit(
    order: tuple[OrderKey, ...], residual: Filter, entity: EntityInfo, caps: Capabilities,
    sort_reason: str | None,
) -> bool:
    """Whether the ties strategy applies (module docstring): only the key count is wrong, and
    the gateway can ask for k1's boundary groups and count what lies before them. k1 must be
    described: the gateway mirrors the backend's comparisons only for a known field type."""
    if residual or not caps.counts or sort_reason != ONE_KEY:
        return False
    info = entity.field(order[0].field)
    return (
        info is not None and info.filterable and _TIES_OPERATORS <= caps.operators
    )


def _cost(strategy: Strategy, caps: Capabilities, page_size: int) -> str:
    """One page's backend calls, as a formula of what is only known at run time."""
    mp = max(1, caps.max_page)
    window = ceil(page_size / mp)
    if strategy == "window":
        if caps.page_totals:
            return f"{window} fetches of <= {mp}, all at once (their answers carry the count)"
        return f"1 count + {window} fetches of <= {mp}, all at once"
    if strategy == "scan":
        if caps.counts:
            return f"1 count + ceil(totalSize / {mp}) fetches"
        return f"ceil((matches + 1) / {mp}) fetches, one after another"
    return (
        f"round 1: 1 count + {window} fetches of <= {mp} sorted by the first key; "
        f"round 2, all at once: per boundary group (a first key value at an edge of a round-1 "
        f"call, at most {2 * window}) ceil(group / {mp}) fetches (+1 count when it fills "
        f"{mp}), +2 counts when the page lies inside one group that neither starts the data "
        f"nor ends it. Runs scan instead when ceil(totalSize / {mp}) is fewer calls than "
        f"round 2 needs at least, or a boundary value cannot be filtered on"
    )


def plan(
    query: Query, entity: EntityInfo, caps: Capabilities, pushable: Pushable,
    *, ties: bool = True,
) -> Plan:
    """Decide what the backend does for ``query`` and what the gateway finishes
    (``ties=False``: never the ties strategy, the plan the executor falls back to)."""
    pushed_filter, residual, not_pushed = _split_filter(query, entity, caps, pushable)
    order = full_order(query.order_by)
    sort_reason = _sort_problem(order, entity, caps)
    sort_in_gateway = sort_reason is not None
    pushed_all = not residual and not sort_in_gateway
    strategy: Strategy = "window" if pushed_all and caps.counts else "scan"
    if not sort_in_gateway:
        pushed_order = order if caps.multi_sort else decisive(order)
    elif ties and _ties_fit(order, residual, entity, caps, sort_reason):
        pushed_order, strategy = order[:1], "ties"
    elif stable_order(entity, caps):
        pushed_order = (OrderKey("id"),)  # a stable walk for the scan (see module docstring)
    else:
        pushed_order = ()
    fields: tuple[str, ...] | None = None
    extra: tuple[str, ...] = ()
    if query.fields is not None:
        wanted = list(dict.fromkeys((*query.fields, "id")))
        needed = [c.field for g in residual for c in g.conditions]
        if sort_in_gateway:
            needed += [k.field for k in order]
        extra = tuple(n for n in dict.fromkeys(needed) if n not in wanted)
        fields = (*wanted, *extra)
    return Plan(
        pushed=PushedQuery(filter=pushed_filter, order_by=pushed_order, fields=fields),
        residual=residual,
        sort_in_gateway=sort_in_gateway,
        strategy=strategy,
        extra_fields=extra,
        order_by=order,
        not_pushed=not_pushed,
        sort_reason=sort_reason,
        backend_calls=_cost(strategy, caps, query.page_size),
    )


def stable_order(entity: EntityInfo, caps: Capabilities) -> bool:
    """Whether the backend can sort by ``id`` alone, which makes an offset walk stable."""
    return caps.sort and _sort_problem((OrderKey("id"),), entity, caps) is None
