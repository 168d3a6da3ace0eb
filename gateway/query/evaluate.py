"""Residual semantics: how the gateway itself matches and orders records (the one definition).

Every connector promises that what it evaluates on the backend gives the same answer as this
module (``Capabilities``); whatever a backend cannot do is finished here, so these rules ARE the
Records API. Text comparisons follow the source's ``Collation`` (``gateway/connector.py``, the
README's connector tables): the same model its pushed filters and sorts follow, so a part the
backend does and a part the gateway finishes agree by construction.

Matching (``matches``)
    * A filter is an OR of groups, a group an AND of conditions; an empty filter matches all.
    * A missing key, ``None`` and an empty list are null. The empty string is a value, not null.
    * The condition value is coerced to the field's type (``coerce``): integer and number compare
      as exact decimals ("10" > "9"); boolean accepts true/false/1/0; date is ``YYYY-MM-DD``;
      datetime is ISO 8601, offset-aware, a naive value being UTC. Without field metadata the
      type is taken from the record's value (a JSON number compares numerically, else a string).
    * A date-only value against a datetime field means that UTC day: ``==`` within the day,
      ``>`` after the day, ``>=`` from the day's start, ``<`` before the day, ``<=`` through the
      day's end; 0001-01-01 and 9999-12-31 are days like any other (nothing lies beyond them).
    * Strings compare by the collation's ``text_key``: Unicode casefold when the source is
      case-insensitive, else code points; trailing spaces dropped first when it pads
      (PAD SPACE: ``"a "`` == ``"a"``). Accents are never folded.
    * ``==``, ``>``, ``>=``, ``<``, ``<=``, ``in`` and contains/startsWith/endsWith are false on
      null; ``!=``, ``notIn`` and ``isNotNull`` are the exact complements of ``==``, ``in`` and
      ``isNull``, so a null field matches ``!=`` and ``notIn``.
    * contains/startsWith/endsWith are literal (no wildcards) and apply to the string form of the
      value (numbers as written in JSON, booleans as ``true``/``false``); they fold case like
      the source but never drop trailing spaces (SQL's LIKE compares every character).
    * A record value that cannot be read as the field's type (``"abc"`` in an integer field)
      equals nothing but its own string form and is never greater or less than anything.
    * A list-valued field matches a positive operator when any element does; the negative
      operators stay complements (``!= x`` holds when no element equals x).

Ordering (``sort_key``)
    * Ascending: nulls first when the source sorts nulls first, else last; descending is the
      exact reverse of ascending (so nulls flip ends).
    * Numbers numerically, strings by the collation's ``text_key`` (values equal that way, such
      as ``"New York"`` and ``"new york "`` on a case-insensitive PAD SPACE source, are ties,
      broken by id like every tie), the empty string first among strings, booleans
      false < true, dates and datetimes by instant (a date-only value in a datetime field is
      that day's UTC midnight).
    * Values that cannot be read as the field's type sort after the typed ones by their string
      form; mixed values never raise.
    * Every order ends with the record ``id`` ascending (in the backend's identifier order when
      it has its own, ``Collation.id_key``), which makes paging stable.
    * A dotted field (``contactInformation.email``) reaches into nested objects and through lists
      of them; several values found act like a list-valued field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from gateway.connector import Collation, EntityInfo, FieldInfo, FieldType, Record
from gateway.query.model import NEGATIVE_OPERATORS, Condition, Filter, OrderKey, Scalar

__all__ = ["coerce", "field_info", "is_null", "matches", "sort_key", "text", "value_at"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_POSITIVE = {"!=": "==", "notIn": "in", "isNotNull": "isNull"}
_TEXT_OPS = frozenset({"contains", "startsWith", "endsWith"})
_STRINGY: frozenset[str] = frozenset({"string", "file", "json"})
_DAY = timedelta(days=1)


def field_info(entity: EntityInfo | None, name: str) -> FieldInfo | None:
    """The field's metadata, or None when the entity does not describe it."""
    return entity.field(name) if entity is not None else None


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple) and len(value) == 0)


def text(value: Any) -> str:
    """The string form of a value, as it would be written in JSON (strings unquoted)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return str(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, Decimal):
        value = str(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern already rules it out
            pass
    raise ValueError(f"{value!r} is not a number")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"{value!r} is not a boolean")


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        return date.fromisoformat(value.strip())
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _datetime(value: Any) -> datetime | date:
    """An aware datetime, or a ``date`` for a date-only value (the UTC day)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        s = value.strip()
        if _DATE.fullmatch(s):
            return date.fromisoformat(s)
        if len(s) >= 11 and _DATE.match(s):
            parsed = datetime.fromisoformat(s)  # ValueError on garbage
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{value!r} is not an ISO 8601 datetime")


def coerce(value: Any, field_type: FieldType) -> Any:
    """``value`` as a comparable value of ``field_type``; ``ValueError`` when it is not one.

    integer/number → Decimal (integer must be integral); boolean → bool; date → date;
    datetime → aware datetime, or a date for a date-only value; other types → the string form.
    """
    if value is None:
        return None
    if field_type in ("integer", "number"):
        number = _decimal(value)
        if field_type == "integer" and number != number.to_integral_value():
            raise ValueError(f"{value!r} is not an integer")
        return number
    if field_type == "boolean":
        return _boolean(value)
    if field_type == "date":
        return _date(value)
    if field_type == "datetime":
        return _datetime(value)
    return text(value)


def _infer(value: Any) -> FieldType:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return "string"


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _collation(collation: Collation | None, ci: bool, nulls_first: bool = True,
               id_key: Callable[[Any], Any] | None = None) -> Collation:
    if collation is not None:
        return collation
    return Collation(case_insensitive=ci, nulls_first=nulls_first, id_key=id_key)


def _day_end(start: datetime) -> datetime | None:
    """The instant after a UTC day; None after 9999-12-31 (nothing lies beyond it)."""
    try:
        return start + _DAY
    except OverflowError:
        return None


def _relate(raw: Any, op: str, wanted: Scalar, ftype: FieldType | None, c: Collation) -> bool:
    """One non-null record value against one condition value, for ==, >, >=, <, <=."""
    if wanted is None:
        return False
    kind = ftype or _infer(raw)
    try:
        have, want = coerce(raw, kind), coerce(wanted, kind)
    except (ValueError, TypeError):
        return op == "==" and c.text_key(text(raw)) == c.text_key(text(wanted))
    if kind == "datetime":
        have = _instant(have)
        if not isinstance(want, datetime):  # a date-only value: the whole UTC day
            start = _instant(want)
            end = _day_end(start)
            before_end = end is None or have < end
            return {
                "==": start <= have and before_end,
                ">": not before_end,
                ">=": have >= start,
                "<": have < start,
                "<=": before_end,
            }[op]
    elif kind in _STRINGY:
        have, want = c.text_key(have), c.text_key(want)
    if op == "==":
        return bool(have == want)
    if op == ">":
        return bool(have > want)
    if op == ">=":
        return bool(have >= want)
    if op == "<":
        return bool(have < want)
    return bool(have <= want)


def _element(raw: Any, op: str, value: Any, ftype: FieldType | None, c: Collation) -> bool:
    if op in _TEXT_OPS:
        hay, needle = c.like_key(text(raw)), c.like_key(text(value))
        if op == "contains":
            return needle in hay
        if op == "startsWith":
            return hay.startswith(needle)
        return hay.endswith(needle)
    if op == "in":
        items = value if isinstance(value, tuple | list) else (value,)
        return any(_relate(raw, "==", item, ftype, c) for item in items)
    return _relate(raw, op, value, ftype, c)


def _positive(raw: Any, op: str, value: Any, info: FieldInfo | None, c: Collation) -> bool:
    if op == "isNull":
        return is_null(raw)
    if is_null(raw):
        return False
    ftype = info.type if info is not None else None
    if isinstance(raw, list | tuple) and ftype != "json":
        return any(v is not None and _element(v, op, value, ftype, c) for v in raw)
    return _element(raw, op, value, ftype, c)


def value_at(record: Record, field: str) -> Any:
    """The record's value for ``field``; a dotted path (``contactInformation.email``) reaches into
    nested objects, and through lists of them, giving the list of the values found."""
    if field in record or "." not in field:
        return record.get(field)
    current: Any = record
    for part in field.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list):
            found = [v.get(part) for v in current if isinstance(v, dict)]
            current = [x for v in found for x in (v if isinstance(v, list) else [v])]
        else:
            return None
        if current is None:
            return None
    return current


def _condition(record: Record, cond: Condition, entity: EntityInfo | None,
               c: Collation) -> bool:
    op = _POSITIVE.get(cond.operator, cond.operator)
    hit = _positive(value_at(record, cond.field), op, cond.value,
                    field_info(entity, cond.field), c)
    return not hit if cond.operator in NEGATIVE_OPERATORS else hit


def matches(
    record: Record, filter: Filter, entity: EntityInfo | None, *,
    case_insensitive: bool = True, collation: Collation | None = None,
) -> bool:
    """Whether ``record`` matches ``filter`` (OR of AND groups; ``()`` matches every record)
    under the source's ``collation`` (else a plain one, case-insensitive as said)."""
    if not filter:
        return True
    c = _collation(collation, case_insensitive)
    return any(
        all(_condition(record, cond, entity, c) for cond in group.conditions)
        for group in filter
    )


# Sort components are (class, payload) tuples: the class keeps values of different kinds apart so
# a comparison never meets two incomparable payloads, whatever the data holds.
_NUMBER_CLASS, _BOOL_CLASS, _STRING_CLASS, _TIME_CLASS = 1, 2, 3, 4
_UNTYPED_CLASS, _LIST_CLASS = 6, 7
_NULL_FIRST, _NULL_LAST = 0, 9


def _component(value: Any, ftype: FieldType | None, c: Collation) -> tuple[Any, ...]:
    if is_null(value):
        return (_NULL_FIRST if c.nulls_first else _NULL_LAST,)
    if isinstance(value, list | tuple) and ftype != "json":
        return (_LIST_CLASS, tuple(_component(v, ftype, c) for v in value))
    kind = ftype or _infer(value)
    try:
        typed = coerce(value, kind)
    except (ValueError, TypeError):
        return (_UNTYPED_CLASS, c.text_key(text(value)))
    if kind in ("integer", "number"):
        return (_NUMBER_CLASS, typed)
    if kind == "boolean":
        return (_BOOL_CLASS, int(typed))
    if kind == "date":
        return (_TIME_CLASS, typed)
    if kind == "datetime":
        return (_TIME_CLASS, _instant(typed))
    # Values equal under the source's collation ("Acme", "ACME", "acme ") are ties, broken by
    # id as the backends do, so a page sorted here and one sorted by the backend agree.
    return (_STRING_CLASS, c.text_key(typed))


class _Descending:
    """Reverses the order of the component it wraps."""

    __slots__ = ("value",)

    def __init__(self, value: tuple[Any, ...]) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __gt__(self, other: _Descending) -> bool:
        return bool(other.value > self.value)


def sort_key(
    order_by: Sequence[OrderKey],
    entity: EntityInfo | None,
    *,
    case_insensitive: bool = True,
    nulls_first: bool = True,
    id_key: Callable[[Any], Any] | None = None,
    collation: Collation | None = None,
) -> Callable[[Record], tuple[Any, ...]]:
    """A key function ordering records by ``order_by``, then by ``id`` ascending, under the
    source's ``collation`` (else one made of the three flags).

    ``id_key`` is the backend's own identifier order (``Collation.id_key``: SQL Server
    orders GUIDs by their last bytes first), so ties fall the same way here and there."""
    c = _collation(collation, case_insensitive, nulls_first, id_key)
    id_key = c.id_key
    keys = [*order_by] if any(k.field == "id" for k in order_by) else [*order_by, OrderKey("id")]
    types = [
        info.type if (info := field_info(entity, k.field)) is not None else None for k in keys
    ]

    def key(record: Record) -> tuple[Any, ...]:
        parts: list[Any] = []
        for k, ftype in zip(keys, types, strict=True):
            raw = value_at(record, k.field)
            if k.field == "id" and id_key is not None and raw is not None:
                part: tuple[Any, ...] = (_STRING_CLASS, id_key(raw))
            else:
                part = _component(raw, ftype, c)
            parts.append(_Descending(part) if k.descending else part)
        return tuple(parts)

    return key
