"""Sugar's filter language (FilterApi::addFilters) evaluated over stored rows, quirks included."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from connectors.sugarcrm.emulator.errors import SugarError
from connectors.sugarcrm.emulator.schema import MODULES, FieldDef, ModuleDef
from connectors.sugarcrm.emulator.values import (
    db_key,
    like_matches,
    like_text,
    php_array,
    php_count,
    php_index,
    php_items,
    php_str,
    php_values,
)

__all__ = [
    "FilterContext",
    "Predicate",
    "compile_filter",
    "date_range",
    "matches_everything",
    "resolve_field",
]

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
Getter = Callable[[Row], Any]


@dataclass
class FilterContext:
    """What a filter may refer to besides the row: the user, related rows, per-user sets."""

    module: ModuleDef
    lookup: Callable[[str, Any], Row | None]       # (module, id) -> live row, for link.field
    user_id: str
    favorites: set[str] = field(default_factory=set)
    following: set[str] = field(default_factory=set)
    tracked: set[str] = field(default_factory=set)
    today: date = field(default_factory=date.today)


def _invalid(message: str) -> SugarError:
    return SugarError(422, "invalid_parameter", message)


@dataclass
class _Group:
    any_of: bool
    parts: list[Predicate] = field(default_factory=list)

    def __call__(self, row: Row) -> bool:
        if not self.parts:  # an empty WHERE group compiles to nothing
            return True
        if self.any_of:
            return any(p(row) for p in self.parts)
        return all(p(row) for p in self.parts)


def compile_filter(defs: Any, ctx: FilterContext) -> Predicate:
    root = _Group(any_of=False)
    _add_filters(defs, root, ctx)
    return root


def matches_everything(pred: Predicate) -> bool:
    """A compiled filter with no condition at all (every row passes it)."""
    return isinstance(pred, _Group) and not pred.parts


def _add_filters(defs: Any, group: _Group, ctx: FilterContext) -> None:
    if not php_array(defs):
        raise _invalid(f"Did not recognize the definition: {php_str(defs)}")
    for definition in php_values(defs):
        if not php_array(definition):
            raise _invalid(f"Did not recognize the definition: {php_str(definition)}")
        # Every key lands in `group`: inside an $or, keys of one member object are ORed too.
        for key, value in php_items(definition):
            _add_filter(php_str(key), value, group, ctx)


def _in_set(ids: set[str]) -> Predicate:
    return lambda row: row.get("id") in ids


def _add_filter(key: str, value: Any, group: _Group, ctx: FilterContext) -> None:
    if key in ("$or", "$and"):
        sub = _Group(any_of=key == "$or")
        group.parts.append(sub)
        _add_filters(value, sub, ctx)
    elif key == "$owner":
        group.parts.append(lambda row: row.get("assigned_user_id") == ctx.user_id)
    elif key == "$creator":
        group.parts.append(lambda row: row.get("created_by") == ctx.user_id)
    elif key == "$favorite":
        group.parts.append(_in_set(ctx.favorites))
    elif key == "$following":
        group.parts.append(_in_set(ctx.following))
    elif key == "$tracker":
        group.parts.append(_in_set(ctx.tracked))
    else:
        _add_field_filter(key, value, group, ctx)


def resolve_field(name: str, ctx: FilterContext) -> tuple[FieldDef, Getter]:
    """FilterApi::verifyField: the field's definition and how to read it from a row."""
    module = ctx.module
    if "." in name:
        link_name, fname = name.split(".", 1)
        link = module.links.get(link_name)
        if link is None:
            raise _invalid(f"Invalid link {link_name} for field {fname}")
        target = MODULES[link.module]
        fdef = target.fields.get(fname)
        if fdef is None:
            raise _invalid(f"Unknown field {fname}")

        def related(row: Row) -> Any:
            other = ctx.lookup(link.module, row.get(link.id_field))
            return None if other is None else other.get(fname)  # LEFT JOIN: no row -> NULL

        return fdef, related
    fdef = module.fields.get(name)
    if fdef is None:
        raise _invalid(f"Unknown field {name}")
    if fdef.source == "non-db" and fdef.link and fdef.rname:
        return resolve_field(f"{fdef.link}.{fdef.rname}", ctx)
    return fdef, lambda row: row.get(name)


def _add_field_filter(name: str, spec: Any, group: _Group, ctx: FilterContext) -> None:
    fdef, get = resolve_field(name, ctx)
    if not php_array(spec):
        spec = {"$equals": spec}
    for op, value in php_items(spec):
        group.parts.append(_condition(php_str(op), value, fdef, get, ctx))


def _date_only(value: Any) -> date | None:
    if isinstance(value, str) and len(value.strip()) <= 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _dt(day: date, at: time) -> str:
    return datetime.combine(day, at).isoformat(sep=" ", timespec="seconds")  # year 0001 padded


_DAY_START, _DAY_END = time(0, 0, 0), time(23, 59, 59)


def _shifted(op: str, day: date) -> str:
    """The bound SugarFieldDatetime::fixForFilter makes of a date-only $gt/$gte/$lt/$lte. PHP's
    DateTime goes past the calendar's ends (year 10000, year 0); MySQL reads such a bound as no
    valid date-time, which matches no row, and so does the emulator."""
    try:
        if op == "$gt":
            return _dt(day + timedelta(days=1), _DAY_START)
        if op == "$lt":
            return _dt(day - timedelta(days=1), _DAY_END)
    except OverflowError:
        return "10000-01-01 00:00:00" if op == "$gt" else "0000-12-31 23:59:59"
    return _dt(day, _DAY_START if op == "$gte" else _DAY_END)


def _fix_datetime(op: str, value: Any) -> tuple[str, Any]:
    """SugarFieldDatetime::fixForFilter: a date-only value becomes UTC day boundaries."""
    if op in ("$equals", "$starts"):
        day = _date_only(value)
        if day is not None:
            return "$between", [_dt(day, _DAY_START), _dt(day, _DAY_END)]
    elif op in ("$gt", "$gte", "$lt", "$lte"):
        day = _date_only(value)
        if day is not None:
            # $gt/$lt each skip one boundary second; Sugar does exactly this.
            return op, _shifted(op, day)
    elif op in ("$between", "$dateBetween") and php_array(value) and php_count(value) == 2:
        lo, hi = php_index(value, 0), php_index(value, 1)
        lo_day, hi_day = _date_only(lo), _date_only(hi)
        return op, [_dt(lo_day, _DAY_START) if lo_day else lo,
                    _dt(hi_day, _DAY_END) if hi_day else hi]
    return op, value


def date_range(name: Any, today: date) -> tuple[date, date] | None:
    """TimeDate::parseDateRange for the named ranges; None for an unknown name."""
    def month_bounds(year: int, month: int) -> tuple[date, date]:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])

    def add_months(months: int) -> tuple[int, int]:
        index = today.year * 12 + today.month - 1 + months
        return index // 12, index % 12 + 1

    ranges: dict[str, Callable[[], tuple[date, date]]] = {
        "yesterday": lambda: (today - timedelta(days=1),) * 2,
        "today": lambda: (today, today),
        "tomorrow": lambda: (today + timedelta(days=1),) * 2,
        "last_7_days": lambda: (today - timedelta(days=6), today),
        "next_7_days": lambda: (today, today + timedelta(days=6)),
        "last_30_days": lambda: (today - timedelta(days=29), today),
        "next_30_days": lambda: (today, today + timedelta(days=29)),
        "last_month": lambda: month_bounds(*add_months(-1)),
        "this_month": lambda: month_bounds(today.year, today.month),
        "next_month": lambda: month_bounds(*add_months(1)),
        "last_year": lambda: (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "this_year": lambda: (date(today.year, 1, 1), date(today.year, 12, 31)),
        "next_year": lambda: (date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)),
    }
    make = ranges.get(php_str(name))
    return make() if make else None


def _condition(op: str, value: Any, fdef: FieldDef, get: Getter,
               ctx: FilterContext) -> Predicate:
    ftype = fdef.type
    if ftype == "datetime":
        op, value = _fix_datetime(op, value)

    def key(row: Row) -> Any:
        return db_key(ftype, get(row))

    def bound(v: Any) -> Any:
        return db_key(ftype, v, bound=True)

    def compare(test: Callable[[Any, Any], bool], v: Any) -> Predicate:
        target = bound(v)

        def pred(row: Row) -> bool:
            current = key(row)
            return current is not None and target is not None and test(current, target)
        return pred

    if op == "$equals":
        return compare(lambda a, b: a == b, value)
    if op == "$not_equals":
        return compare(lambda a, b: a != b, value)  # plain SQL '!=': NULL rows never match
    if op in ("$lt", "$lte", "$gt", "$gte"):
        tests: dict[str, Callable[[Any, Any], bool]] = {
            "$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
            "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b}
        return compare(tests[op], value)
    if op in ("$starts", "$ends", "$contains", "$not_contains"):
        fmt = {"$starts": "{}%", "$ends": "%{}", "$contains": "%{}%", "$not_contains": "%{}%"}[op]
        patterns = [fmt.format(php_str(v)) for v in (php_values(value) if php_array(value)
                                                     else [value])]
        if not patterns:
            return lambda row: True  # no pattern, no condition

        def text(row: Row) -> str | None:
            return like_text(ftype, get(row))

        if op == "$not_contains":
            def not_contains(row: Row) -> bool:
                current = text(row)
                return current is None or not any(like_matches(current, p) for p in patterns)
            return not_contains

        def like(row: Row) -> bool:
            current = text(row)
            return current is not None and any(like_matches(current, p) for p in patterns)
        return like
    if op in ("$in", "$not_in"):
        if not php_array(value):
            raise _invalid(f"{op} requires an array")
        members = php_values(value)
        has_empty = any(m is None or m == "" for m in members)
        rest = {bound(m) for m in members if not (m is None or m == "")}
        if op == "$in":
            def in_(row: Row) -> bool:
                current = key(row)
                if current is None:
                    return has_empty  # an empty-string member adds IS NULL
                return current in rest
            return in_

        def not_in(row: Row) -> bool:
            current = key(row)
            if current is None:
                return not has_empty  # NULLs kept, unless '' asked for NOT NULL
            return current not in rest
        if not members:
            return lambda row: key(row) is None  # NOT IN (NULL) is never true; IS NULL remains
        return not_in
    if op in ("$between", "$dateBetween"):
        if not php_array(value) or php_count(value) != 2:
            raise _invalid("$between requires an array with two values.")
        lo, hi = bound(php_index(value, 0)), bound(php_index(value, 1))

        def between(row: Row) -> bool:
            current = key(row)
            return None not in (current, lo, hi) and lo <= current <= hi
        return between
    if op == "$is_null":
        return lambda row: get(row) is None
    if op == "$not_null":
        return lambda row: get(row) is not None
    if op in ("$empty", "$not_empty"):
        empty = bound("")

        def is_empty(row: Row) -> bool:
            current = key(row)
            return current is None or current == empty
        if op == "$empty":
            return is_empty
        return lambda row: not is_empty(row)
    if op == "$dateRange":
        bounds = date_range(value, ctx.today)
        if bounds is None:
            return lambda row: True  # parseDateRange failed: Sugar adds no condition
        start, end = bounds
        if ftype == "datetime":
            lo, hi = bound(_dt(start, _DAY_START)), bound(_dt(end, _DAY_END))
        else:
            lo, hi = bound(start.isoformat()), bound(end.isoformat())

        def in_range(row: Row) -> bool:
            current = key(row)
            return None not in (current, lo, hi) and lo <= current <= hi
        return in_range
    raise _invalid(f"Did not recognize the operand: {op}")
