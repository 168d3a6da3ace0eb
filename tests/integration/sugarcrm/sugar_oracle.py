"""The gateway's query rules, written again here, apart from the code under test."""

from datetime import UTC, date, datetime, time, timedelta

from gateway.query.model import Condition


def _as_datetime(value):
    if isinstance(value, str) and len(value) > 10:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _day(value):
    if isinstance(value, str) and len(value) == 10:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return None
        start = datetime.combine(d, time(0), tzinfo=UTC)
        return start, start + timedelta(days=1)
    return None


def _norm(value, ftype):
    if value is None:
        return None
    if ftype in ("integer", "number"):
        return float(value)
    if ftype == "datetime":
        return _as_datetime(value)
    if isinstance(value, str):
        return value.casefold()
    return value


def _eq(actual, wanted, ftype):
    if actual is None:
        return False
    if ftype == "datetime" and _day(wanted):
        start, end = _day(wanted)
        return start <= _as_datetime(actual) < end
    return _norm(actual, ftype) == _norm(wanted, ftype)


def _cmp(actual, op, wanted, ftype):
    if actual is None:
        return False
    if ftype == "datetime" and _day(wanted):
        start, end = _day(wanted)
        a = _as_datetime(actual)
        return {">": a >= end, ">=": a >= start, "<": a < start, "<=": a < end}[op]
    a, w = _norm(actual, ftype), _norm(wanted, ftype)
    return {">": a > w, ">=": a >= w, "<": a < w, "<=": a <= w}[op]


def matches(record, cond: Condition, ftype: str) -> bool:
    actual = record.get(cond.field)
    op, wanted = cond.operator, cond.value
    if op == "isNull":
        return actual is None
    if op == "isNotNull":
        return actual is not None
    if op == "==":
        return _eq(actual, wanted, ftype)
    if op == "!=":
        return not _eq(actual, wanted, ftype)
    if op == "in":
        return any(_eq(actual, w, ftype) for w in wanted)
    if op == "notIn":
        return not any(_eq(actual, w, ftype) for w in wanted)
    if op in ("contains", "startsWith", "endsWith"):
        if actual is None:
            return False
        a, w = str(actual).casefold(), str(wanted).casefold()
        return {"contains": w in a, "startsWith": a.startswith(w), "endsWith": a.endswith(w)}[op]
    return _cmp(actual, op, wanted, ftype)


def select(records, filter, types):
    """Records matching an OR of AND groups."""
    if not filter:
        return list(records)
    return [r for r in records
            if any(all(matches(r, c, types[c.field]) for c in g.conditions) for g in filter)]


def _sort_key(value, ftype):
    norm = _norm(value, ftype)
    return (norm is not None, norm if norm is not None else 0)


def ordered(records, keys, types):
    """Sorted by several keys, nulls first ascending (last descending), stable."""
    out = list(records)
    for k in reversed(keys):
        out.sort(key=lambda r, k=k: _sort_key(r.get(k.field), types.get(k.field, "string")),
                 reverse=k.descending)
    return out
