"""The expected answer of a Records query, computed from an emulator's raw data in plain Python.

Written apart from gateway/query on purpose: it restates the README's filter semantics in the
simplest possible way, so a bug in the gateway's evaluator or in a connector's pushdown shows up as
a difference instead of being mirrored. Only the field types the contract data sets use are known:
strings (compared casefolded on case-insensitive backends, as their collations do), integers and
decimals, booleans, dates and ISO date-times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["expected"]


def _is_null(v: Any) -> bool:
    return v is None


def _num(v: Any) -> Decimal | None:
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None


def _day_bounds(day: str) -> tuple[dt.datetime, dt.datetime]:
    d = dt.date.fromisoformat(day)
    start = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def _instant(v: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(v)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _cmp_value(ftype: str, v: Any, ci: bool = True) -> Any:
    if ftype in ("integer", "number"):
        return _num(v)
    if ftype == "boolean":
        return v if isinstance(v, bool) else str(v).lower() in ("true", "1")
    if ftype == "datetime":
        return _instant(str(v))
    if ftype == "date":
        return dt.date.fromisoformat(str(v)[:10])
    return str(v).casefold() if ci else str(v)


def _positive(op: str, ftype: str, have: Any, want: Any, ci: bool) -> bool:
    if _is_null(have):
        return False
    if isinstance(have, list):
        return any(_positive(op, ftype, h, want, ci) for h in have)
    if op in ("contains", "startsWith", "endsWith"):
        h, w = _cmp_value("string", have, ci), _cmp_value("string", want, ci)
        return bool({"contains": w in h, "startsWith": h.startswith(w),
                     "endsWith": h.endswith(w)}[op])
    if op == "in":
        return any(_positive("==", ftype, have, w, ci) for w in want)
    if ftype == "datetime" and isinstance(want, str) and len(want) == 10:
        start, end = _day_bounds(want)
        t = _instant(str(have))
        return {"==": start <= t < end, ">": t >= end, ">=": t >= start,
                "<": t < start, "<=": t < end}[op]
    h, w = _cmp_value(ftype, have, ci), _cmp_value(ftype, want, ci)
    if h is None or w is None:
        return False
    return bool({"==": h == w, ">": h > w, ">=": h >= w, "<": h < w, "<=": h <= w}[op])


def _match(cond: dict[str, Any], record: dict[str, Any], types: dict[str, str], ci: bool) -> bool:
    op, field = cond["operator"], cond["field"]
    have, want, ftype = record.get(field), cond.get("value"), types.get(field, "string")
    if op == "isNull":
        return _is_null(have)
    if op == "isNotNull":
        return not _is_null(have)
    if op == "!=":
        return not _positive("==", ftype, have, want, ci)
    if op == "notIn":
        return not _positive("in", ftype, have, want, ci)
    return _positive(op, ftype, have, want, ci)


def _sort_key(
    record: dict[str, Any], order: list[dict[str, str]], types: dict[str, str], ci: bool,
    id_key: Callable[[str], Any],
) -> list[Any]:
    key: list[Any] = []
    for o in order:
        v = record.get(o["field"])
        desc = o.get("order", "ASC").upper() == "DESC"
        # nulls first in ascending order, last in descending: (0, …) < (1, …) either way round
        part = (0, None) if v is None else (1, _cmp_value(types.get(o["field"], "string"), v, ci))
        key.append(_Desc(part) if desc else _Asc(part))
    key.append(_Asc((1, id_key(record["id"]))))
    return key


class _Asc:
    __slots__ = ("v",)

    def __init__(self, v: tuple[int, Any]) -> None:
        self.v = v

    def __lt__(self, other: _Asc) -> bool:
        a, b = self.v, other.v
        if a[0] != b[0]:
            return a[0] < b[0]
        return a[0] == 1 and a[1] < b[1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Asc) and self.v == other.v


class _Desc(_Asc):
    def __lt__(self, other: _Asc) -> bool:
        return _Asc(other.v) < _Asc(self.v)


def expected(
    records: list[dict[str, Any]],
    types: dict[str, str],
    filter: list[list[dict[str, Any]]] | None = None,
    order: list[dict[str, str]] | None = None,
    *,
    case_insensitive: bool = True,
    id_key: Callable[[str], Any] = str,
) -> list[dict[str, Any]]:
    """Every record matching ``filter`` (OR of AND groups), in ``order`` then id ascending."""
    ci, groups = case_insensitive, filter or []
    hits = [r for r in records
            if not groups or any(all(_match(c, r, types, ci) for c in g) for g in groups)]
    return sorted(hits, key=lambda r: _sort_key(r, order or [], types, ci, id_key))
