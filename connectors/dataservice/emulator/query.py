"""The query endpoint's semantics: filterGroup trees, the twelve operators, sorting, rendering.

Text follows SQL Server's default collation (inferred): case-insensitive, and ANSI padding
(trailing spaces ignored by =, <, >, in and ORDER BY; LIKE-style operators see every character).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

import orjson

from connectors.dataservice.emulator.errors import DsError, problem
from connectors.dataservice.emulator.schema import ENTITIES, EntityDef, FieldDef
from connectors.dataservice.emulator.store import RecordStore
from connectors.dataservice.emulator.values import guid_key, parse_datetime

__all__ = [
    "OPERATORS",
    "Predicate",
    "apply_order",
    "compile_group",
    "order",
    "render",
    "sort_keys",
    "sorted_rows",
]

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
OPERATORS = ("=", "!=", ">", "<", ">=", "<=", "contains", "not contains", "startswith",
             "endswith", "in", "not in")
_TEXT = ("STRING", "MULTILINE_MAX")
_NUMBER = ("INTEGER", "DECIMAL", "CHOICE_SET_SINGLE")
_GUID = ("UUID", "RELATIONSHIP")
_LIKE_OPS = ("contains", "not contains", "startswith", "endswith")


def _text_key(text: str) -> str:
    """SQL Server's comparison form of text: trailing spaces padded away, case folded."""
    return text.rstrip(" ").casefold()


def _bad(message: str) -> DsError:
    return DsError(400, message)


def _operand(fdef: FieldDef, text: str) -> Any:
    """A filter value (always a string on the wire) parsed as the field's type."""
    kind = fdef.type
    if kind in _TEXT:
        return _text_key(text)
    try:
        if kind in _NUMBER:
            return Decimal(text.strip())
        if kind == "DATE":
            return date.fromisoformat(text.strip()[:10])
        if kind == "DATETIME":
            moment = parse_datetime(text)
            if moment is None:
                raise ValueError(text)
            return moment
        if kind == "BOOLEAN":
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return lowered in ("true", "1")
        if kind in _GUID:
            return str(uuid.UUID(text.strip()))
    except (ValueError, InvalidOperation) as exc:
        raise _bad(f"The value '{text}' is not valid for field '{fdef.name}'.") from exc
    raise _bad(f"The field '{fdef.name}' cannot be used in a filter.")


def _stored(fdef: FieldDef, value: Any) -> Any:
    """A stored value in the same comparable form as `_operand`."""
    kind = fdef.type
    if kind in _TEXT:
        return _text_key(value)
    if kind in _NUMBER:
        return Decimal(str(value))
    if kind == "DATE":
        return date.fromisoformat(value)
    if kind == "DATETIME":
        return parse_datetime(value)
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value).casefold()


def _compare(op: str, left: Any, right: Any, fdef: FieldDef) -> bool:
    if fdef.type in _GUID and op in (">", "<", ">=", "<="):
        left, right = guid_key(left), guid_key(right)
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == ">":
        return bool(left > right)
    if op == "<":
        return bool(left < right)
    if op == ">=":
        return bool(left >= right)
    if op == "<=":
        return bool(left <= right)
    text, pattern = _as_text(left), _as_text(right)
    if op == "contains":
        return pattern in text
    if op == "not contains":
        return pattern not in text
    if op == "startswith":
        return text.startswith(pattern)
    return text.endswith(pattern)


def _multi_choice(fdef: FieldDef, op: str, value: str) -> Predicate:
    """Multi-choice rules [UP-SK]: contains "1" = membership, = "[1,3]" = whole-set equality."""
    text = value.strip()
    bracketed = text.startswith("[")
    if op in ("=", "!="):
        if not bracketed:
            raise _bad(f"Operator '{op}' on multi-choice field '{fdef.name}' needs a list "
                       "value such as \"[1,3]\".")
        try:
            wanted = sorted({int(x) for x in orjson.loads(text)})
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise _bad(f"The value '{value}' is not valid for field '{fdef.name}'.") from exc
        def same(row: Row) -> bool:
            return row.get(fdef.name) is not None and sorted(row[fdef.name]) == wanted

        def differs(row: Row) -> bool:
            return row.get(fdef.name) is not None and not same(row)

        return same if op == "=" else differs
    if op in ("contains", "not contains"):
        if bracketed:
            raise _bad(f"Operator '{op}' on multi-choice field '{fdef.name}' takes one option "
                       "number, not a list.")
        try:
            number = int(text)
        except ValueError as exc:
            raise _bad(f"The value '{value}' is not valid for field '{fdef.name}'.") from exc
        negate = op == "not contains"
        return lambda row: row.get(fdef.name) is not None and (number in row[fdef.name]) != negate
    raise _bad(f"Operator '{op}' is not supported for field '{fdef.name}'.")


def _condition(entity: EntityDef, raw: Any, where: str) -> Predicate:
    if not isinstance(raw, dict):
        raise _bad(f"{where}: a query filter must be an object.")
    name, op = raw.get("fieldName"), raw.get("operator")
    value, values = raw.get("value"), raw.get("valueList")
    if not isinstance(op, str) or op not in OPERATORS:
        raise _bad(f"Operator '{op}' is not supported.")
    if not isinstance(name, str) or name not in entity.fields:
        raise _bad(f"Field '{name}' does not exist in entity '{entity.name}'.")
    if value is not None and not isinstance(value, str):
        # The service binds `value` to a string; a JSON number or boolean does not bind.
        raise problem({f"{where}.value": ["The JSON value could not be converted to "
                                          "System.String."]})
    fdef = entity.fields[name]
    if op in ("in", "not in"):
        if not isinstance(values, list) or not values \
                or not all(isinstance(v, str) for v in values):
            raise _bad(f"Operator '{op}' requires a non-empty valueList.")
        if value is not None:
            raise _bad(f"Operator '{op}' uses valueList; value must be omitted.")
    elif values is not None:
        raise _bad(f"Operator '{op}' uses value; valueList must be omitted.")
    if op in ("=", "!=") and (value is None or value == ""):
        is_null = op == "="  # = / != with an empty value: IS NULL / IS NOT NULL
        return lambda row: (row.get(name) is None) == is_null
    if value is None and op not in ("in", "not in"):
        raise _bad(f"Operator '{op}' requires a non-null value.")
    if fdef.type == "FILE":
        raise _bad(f"Field '{name}' of type File can only be checked for null.")
    if fdef.type == "BOOLEAN" and op not in ("=", "!="):
        raise _bad(f"Operator '{op}' is not supported for field '{name}' of type Boolean.")
    if fdef.type == "CHOICE_SET_MULTIPLE":
        if op in ("in", "not in"):
            raise _bad(f"Operator '{op}' is not supported for field '{name}'.")
        return _multi_choice(fdef, op, value or "")
    if op in ("in", "not in"):
        wanted = [_operand(fdef, v) for v in values or []]
        negate = op == "not in"
        # SQL: a NULL column is neither IN nor NOT IN anything.
        return lambda row: row.get(name) is not None and (
            (_stored(fdef, row[name]) in wanted) != negate)
    if fdef.type in _TEXT and op in _LIKE_OPS:
        pattern = (value or "").casefold()  # LIKE: every character counts, case folded
        return lambda row: row.get(name) is not None and _compare(
            op, str(row[name]).casefold(), pattern, fdef)
    operand = _operand(fdef, value or "")
    if isinstance(operand, Decimal) and fdef.type == "INTEGER" and op in ("=", "!=") \
            and operand != operand.to_integral_value():
        raise _bad(f"The value '{value}' is not valid for field '{name}'.")
    # SQL three-valued logic: any comparison with a NULL column is not true, negations included.
    return lambda row: row.get(name) is not None and _compare(
        op, _stored(fdef, row[name]), operand, fdef)


def _logic(raw: Any, where: str) -> bool:
    """True for AND. 0/1 as documented; "AND"/"OR" as the CLI contract accepts."""
    if raw is None or raw == 0 or (isinstance(raw, str) and raw.strip().upper() in ("AND", "0")):
        return True
    if raw == 1 or (isinstance(raw, str) and raw.strip().upper() in ("OR", "1")):
        return False
    raise _bad(f"{where}: logicalOperator '{raw}' is not valid; use 0 (AND) or 1 (OR).")


def compile_group(entity: EntityDef, raw: Any, where: str = "filterGroup") -> Predicate:
    """A filterGroup: its logicalOperator joins its queryFilters and its nested filterGroups."""
    if raw is None:
        return lambda row: True
    if not isinstance(raw, dict):
        raise _bad(f"{where} must be an object.")
    conjunction = _logic(raw.get("logicalOperator"), where)
    _logic(raw.get("continueLogicalOperator"), where)  # accepted, undocumented: no effect
    filters, groups = raw.get("queryFilters") or [], raw.get("filterGroups") or []
    if not isinstance(filters, list) or not isinstance(groups, list):
        raise _bad(f"{where}: queryFilters and filterGroups must be arrays.")
    parts = [_condition(entity, f, f"{where}.queryFilters[{i}]") for i, f in enumerate(filters)]
    parts += [compile_group(entity, g, f"{where}.filterGroups[{i}]")
              for i, g in enumerate(groups)]
    if not parts:
        return lambda row: True
    if conjunction:
        return lambda row: all(p(row) for p in parts)
    return lambda row: any(p(row) for p in parts)


def _sort_key(fdef: FieldDef) -> Callable[[Row], tuple[Any, ...]]:
    def key(row: Row) -> tuple[Any, ...]:
        value = row.get(fdef.name)
        if value is None:
            return (0,)  # SQL Server: NULLs first ascending, last descending
        if fdef.type in _GUID:
            return (1, guid_key(value))
        if fdef.type == "CHOICE_SET_MULTIPLE":
            return (1, orjson.dumps(value))
        if fdef.type == "FILE":
            return (1, str(value.get("Name", "")).casefold())
        return (1, _stored(fdef, value))
    return key


def order(entity: EntityDef, rows: list[Row], raw: Any) -> list[Row]:
    """sortOptions (several keys allowed), ties and the default broken by Id ascending."""
    return apply_order(entity, rows, sort_keys(entity, raw))


def sort_keys(entity: EntityDef, raw: Any) -> list[tuple[FieldDef, bool]]:
    """sortOptions checked: (field, descending) per option, most significant first."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise _bad("sortOptions must be an array.")
    keys: list[tuple[FieldDef, bool]] = []
    for i, opt in enumerate(raw):
        name = opt.get("fieldName") if isinstance(opt, dict) else None
        if not isinstance(name, str) or name not in entity.fields:
            raise _bad(f"Field '{name}' does not exist in entity '{entity.name}'.")
        desc = opt.get("isDescending")
        if desc is not None and not isinstance(desc, bool):
            raise problem({f"sortOptions[{i}].isDescending": [
                "The JSON value could not be converted to System.Boolean."]})
        keys.append((entity.fields[name], bool(desc)))
    return keys


def apply_order(entity: EntityDef, rows: list[Row], keys: list[tuple[FieldDef, bool]]
                ) -> list[Row]:
    """`rows` sorted by `keys`, ties and the default broken by Id ascending."""
    ordered = sorted(rows, key=_sort_key(entity.fields["Id"]))
    for fdef, desc in reversed(keys):  # stable sorts, least significant key first
        ordered.sort(key=_sort_key(fdef), reverse=desc)
    return ordered


# Values a kept order can be checked by: compared by value, so never changed in place.
_SCALARS = (str, int, float, Decimal, type(None))
_ORDERS_MAX = 32


def sorted_rows(store: RecordStore, entity: EntityDef, keys: list[tuple[FieldDef, bool]]
                ) -> list[Row] | None:
    """``apply_order(entity, store.rows(entity.name), keys)``, kept in ``store.orders`` between
    reads: reused while no row was added or removed and every row's Id and sort values are
    what they were (rows changed in place, by the API or by hand, are seen). Not kept for
    multiple-choice or file keys, nor values other than plain ones; sorted afresh then. None
    when the rows do not sort as a whole: the caller sorts what it needs. The caller must not
    change the list."""
    rows = store.rows(entity.name)
    if any(fdef.type in ("CHOICE_SET_MULTIPLE", "FILE") for fdef, _ in keys):
        return None
    names = ("Id", *(fdef.name for fdef, _ in keys))
    cache_key = (entity.name, tuple((fdef.name, desc) for fdef, desc in keys))
    try:
        stamp = list(map(itemgetter(*names), rows))
    except KeyError:  # a row without one of the fields: no stamp
        return None
    cached = store.orders.get(cache_key)
    if cached and cached[0] == store.generation and cached[1] == stamp:
        return cached[2]
    try:
        ordered = apply_order(entity, rows, keys)
    except Exception:  # the caller's own sort of what matched raises, if anything
        return None
    plain = (v for item in stamp for v in (item if len(names) > 1 else (item,)))
    if all(isinstance(v, _SCALARS) for v in plain):
        if len(store.orders) >= _ORDERS_MAX:
            store.orders.clear()
        store.orders[cache_key] = (store.generation, stamp, ordered)
    return ordered


def render(entity: EntityDef, row: Row, level: int, rows_of: Callable[[str, str], Row | None],
           full_text: bool = False, selected: list[str] | None = None) -> Row:
    """A row as the API answers it: relationships expanded `level` deep, long text as a marker."""
    out: Row = {}
    for key, value in row.items():
        if selected is not None and key != "Id" and key not in selected:
            continue
        fdef = entity.fields[key]
        if fdef.type == "RELATIONSHIP" and value is not None and level > 0:
            target = rows_of(fdef.target or "", value)
            if target is not None:
                value = render(ENTITIES[fdef.target or ""], target, level - 1, rows_of)
        elif fdef.type == "MULTILINE_MAX" and value is not None and not full_text:
            # List and query answers carry only a size marker for MULTILINE_MAX text [UP-TS].
            value = f"HasValue=true Length={len(value)}"
        out[key] = value
    return out
