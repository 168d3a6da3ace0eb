"""Data Service query bodies: what a pushed query becomes on the wire, and which conditions may go.

Every condition pushed must match exactly the records ``gateway/query/evaluate.py`` would match;
anything else stays in the gateway. Wire facts in /work/shared/backends/uipath-data-service.md §6:

- ``filterGroup`` nests: an OR of the gateway's AND groups is one call (``logicalOperator`` 1 over
  child groups with ``logicalOperator`` 0).
- ``value`` is always a string the service parses; ``in``/``not in`` take ``valueList``.
- ``=``/``!=`` with an empty value mean IS NULL / IS NOT NULL, so ``== ""`` cannot be said and
  stays in the gateway. SQL's ``<>`` and ``NOT IN`` drop NULL rows while the gateway's ``!=`` and
  ``notIn`` keep them: both go as an OR group with the null check.
- LIKE wildcards (``%`` ``_`` ``[`` ``]``) are not known to be escaped: such values stay here;
  SQL Server ignores trailing spaces in ``=``: such values stay here too.
- A date-only value on a datetime field is that UTC day, sent as instant bounds.
- The key field ``Id`` is the gateway's ``id``; it is a GUID: only equality with GUID values goes.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from connectors.dataservice.batch import BATCH_LIMIT
from gateway.connector import Capabilities, Collation, FieldInfo, IdShape
from gateway.errors import Unsupported
from gateway.query.model import OPERATORS, Condition, Filter, OrderKey, Scalar

__all__ = [
    "NOTES",
    "Kind",
    "capabilities",
    "pushable",
    "sort_options",
    "to_filter_group",
    "wire_name",
]

# How the service types a field, beyond the gateway's FieldType: ``uuid`` (Id, UUID fields),
# ``choice`` (single choice set: integer NumberId) and ``opaque`` (conflicting metadata).
Kind = Literal["uuid", "choice", "opaque"]

AND, OR = 0, 1
_COMPARE = {">": ">", ">=": ">=", "<": "<", "<=": "<="}
_LIKE = {"contains": "contains", "startsWith": "startswith", "endsWith": "endswith"}
_NULLS = frozenset({"isNull", "isNotNull"})
_EQ = frozenset({"==", "!="}) | _NULLS
_EQ_IN = _EQ | {"in", "notIn"}
_ORDERED = _EQ_IN | frozenset(_COMPARE)

_BY_TYPE: dict[str, frozenset[str]] = {
    "string": _EQ_IN | frozenset(_LIKE),
    "integer": _ORDERED,
    "number": _ORDERED,
    "date": _ORDERED,
    "datetime": _EQ | frozenset(_COMPARE),
    "boolean": _EQ,
    "uuid": _EQ_IN,
    "choice": _EQ,
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^-?\d{1,18}$")
_DECIMAL = re.compile(r"^-?\d{1,28}(\.\d{1,28})?$")
_INT32 = 2**31

NOTES: dict[str, str] = {
    "==": "'=' (value sent as a string); case-insensitive; date-only on a datetime = that UTC day",
    "!=": "'!=' OR '= \"\"' (null check) in a nested group, since SQL's <> drops nulls",
    ">": "'>' on number, date, datetime; date-only on a datetime sent as >= next day",
    ">=": "'>=' on number, date, datetime",
    "<": "'<' on number, date, datetime",
    "<=": "'<=' on number, date, datetime; date-only on a datetime sent as < next day",
    "in": "'in' with valueList on text, number, date, Id",
    "notIn": "'not in' OR null check (keeps nulls)",
    "contains": "'contains' on text; values with % _ [ ] finished in the gateway",
    "startsWith": "'startswith' on text; values with % _ [ ] finished in the gateway",
    "endsWith": "'endswith' on text; values with % _ [ ] finished in the gateway",
    "isNull": "'=' with an empty value",
    "isNotNull": "'!=' with an empty value",
    "or": "OR of AND groups as nested filterGroups, one call",
    "sort": "sortOptions with several keys, Id appended as tie-break",
    "paging": "start/limit (max 1000); totals from totalRecordCount of the query answer",
    "id": "the key field Id is shown and accepted as id; system fields pass through",
    "fields": "relationship, file and multi-choice fields are neither filtered nor sorted there; "
    "MULTILINE_MAX text is neither filtered nor sorted at all (answers carry a size marker)",
    "batch": "insert-batch, update-batch, delete-batch per run of one action, with failOnFirst "
    "(up to 1000 records); versioned updates checked first by one query on their Ids",
    "files": "Attachment/<Entity>/<id>/<field> upload (multipart), download, delete, streamed",
    "locking": "If-Match/version compared with UpdateTime under a per-record lock in the "
    "state store (atomic among writes through the gateway)",
    "ids": "a GUID (8-4-4-4-12 hexadecimal digits, any case); anything else is 400 before "
    "any call",
}

# Record Ids are SQL Server uniqueidentifiers, shown in their 36-character form.
ID_SHAPE = IdShape(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "a GUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6",
)


def capabilities(max_page: int) -> Capabilities:
    return Capabilities(
        operators=frozenset(OPERATORS),
        or_groups=True,
        sort=True,
        multi_sort=True,
        max_page=max_page,
        counts=True,
        page_totals=True,  # each list answer carries the total: no separate count call
        native_batch=True,
        batch_limit=BATCH_LIMIT,
        batch_actions=frozenset({"create", "update", "delete"}),
        batch_fail_on_first=True,  # failOnFirst=true stops the service at the first failure
        files=True,
        collation=COLLATION,
        id_shape=ID_SHAPE,
    )


def sql_server_guid_order(value: Any) -> tuple[bytes, ...]:
    """How SQL Server orders uniqueidentifiers (``SqlGuid.CompareTo``): the .NET byte layout,
    whose first three groups are little-endian, compared as bytes 10-15, 8-9, 6-7, 4-5, 0-3.
    The Data Service breaks ties by ``Id`` in this order, so the gateway does too."""
    try:
        raw = uuid.UUID(str(value)).bytes_le
    except ValueError:
        return (b"", b"", b"", b"", str(value).lower().encode())
    return (raw[10:16], raw[8:10], raw[6:8], raw[4:6], raw[0:4])


# SQL Server's default collation (inferred, §6): case-insensitive; ANSI padding, so trailing
# spaces are ignored by =, <, > and ORDER BY (not by LIKE); NULL first ascending; ties by Id in
# uniqueidentifier order.
COLLATION = Collation(
    case_insensitive=True, pad_space=True, nulls_first=True, id_key=sql_server_guid_order,
    id_order="SQL Server uniqueidentifier order (last 6 bytes first)",
    unicode="accents kept (SQL Server's _AS), code point order (the emulator's model; SQL "
    "Server orders text by its collation's weights, so text > and < stay in the gateway)",
)
NOTES["collation"] = COLLATION.describe()


def wire_name(name: str) -> str:
    """The service's name of a gateway field name (``id`` is the key field ``Id``)."""
    return "Id" if name == "id" else name


def _date_only(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _datetime(value: Any) -> str | None:
    """A full ISO date-time (naive = UTC, as the gateway reads it) on the wire as UTC ``Z``."""
    if not isinstance(value, str) or len(value) <= 10 or not _DATE.match(value[:10]):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return _instant(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    except (ValueError, OverflowError):  # OverflowError: beyond the calendar once in UTC
        return None


def _wire(value: Scalar, kind: str) -> str | None:
    """The value as the service should receive it, or None when it would compare differently."""
    if value is None:
        return None
    if kind == "string":
        # Empty means "null" on the wire; trailing spaces are ignored by SQL Server's = and
        # by the gateway under COLLATION alike.
        if not isinstance(value, str) or value == "":
            return None
        return value
    if isinstance(value, bool):
        if kind == "boolean":
            return "true" if value else "false"
        return None
    if kind in ("integer", "choice"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            return str(value) if abs(value) < _INT32 else None
        if isinstance(value, str) and _INTEGER.match(value) and abs(int(value)) < _INT32:
            return str(int(value))
        return None
    if kind == "number":
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) and "e" not in repr(value) else None
        return value if isinstance(value, str) and _DECIMAL.match(value) else None
    if kind == "boolean":
        word = value.strip().lower() if isinstance(value, str) else None
        return {"true": "true", "1": "true", "false": "false", "0": "false"}.get(word or "")
    if kind == "date":
        return value if isinstance(value, str) and _date_only(value) is not None else None
    if kind == "datetime":
        return _datetime(value)
    if kind == "uuid":
        if not isinstance(value, str):
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return None
    return None


def _like_ok(value: Scalar) -> bool:
    return isinstance(value, str) and value != "" and not any(ch in value for ch in "%_[]")


def _kind(field: FieldInfo) -> str:
    """The service kind the field was described with (``FieldInfo.kind``), else its type."""
    if field.name == "id":
        return "uuid"
    return field.kind or field.type


def pushable(condition: Condition, field: FieldInfo | None) -> bool:
    """Whether the service answers this condition exactly as the gateway would."""
    if field is None or not field.filterable or field.multivalued:
        return False
    op, value = condition.operator, condition.value
    kind = _kind(field)
    if op in _NULLS:
        return True
    if op not in _BY_TYPE.get(kind, frozenset()):
        return False
    if op in _LIKE:
        return _like_ok(value) if not isinstance(value, tuple) else False
    if op in ("in", "notIn"):
        return bool(value) and isinstance(value, tuple) and all(
            _wire(v, kind) is not None for v in value
        )
    if isinstance(value, tuple):
        return False
    if kind == "datetime" and _date_only(value) is not None:
        return True
    return _wire(value, kind) is not None


def _q(name: str, op: str, value: str) -> dict[str, Any]:
    return {"fieldName": name, "operator": op, "value": value}


def _group(op: int, filters: list[dict[str, Any]], groups: list[dict[str, Any]] | None = None
           ) -> dict[str, Any]:
    out: dict[str, Any] = {"logicalOperator": op, "queryFilters": filters}
    if groups:
        out["filterGroups"] = groups
    return out


def _or_null(name: str, positive_not: list[dict[str, Any]]) -> dict[str, Any]:
    """``negations OR field is null``: the gateway's complements keep null rows."""
    return _group(OR, [*positive_not, _q(name, "=", "")])


def _day(name: str, op: str, day: date, into: list[dict[str, Any]],
         groups: list[dict[str, Any]]) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lo = _instant(start)
    if day == date.max:  # no day after 9999-12-31: "before its end" is every value
        if op == "==":
            into.append(_q(name, ">=", lo))
        elif op == "!=":
            groups.append(_or_null(name, [_q(name, "<", lo)]))
        elif op == ">":
            into += [_q(name, "=", ""), _q(name, "!=", "")]  # null and not null: nothing
        elif op == "<=":
            into.append(_q(name, "!=", ""))
        else:
            into.append(_q(name, ">=" if op == ">=" else "<", lo))
        return
    hi = _instant(start + timedelta(days=1))
    if op == "==":
        into += [_q(name, ">=", lo), _q(name, "<", hi)]
    elif op == "!=":
        groups.append(_or_null(name, [_q(name, "<", lo), _q(name, ">=", hi)]))
    elif op == ">":
        into.append(_q(name, ">=", hi))
    elif op == ">=":
        into.append(_q(name, ">=", lo))
    elif op == "<":
        into.append(_q(name, "<", lo))
    else:  # "<="
        into.append(_q(name, "<", hi))


def _add(cond: Condition, kind: str, into: list[dict[str, Any]],
         groups: list[dict[str, Any]]) -> None:
    """Append ``cond`` to one AND group: as query filters, or a nested OR group."""
    name, op, value = wire_name(cond.field), cond.operator, cond.value
    if op == "isNull":
        into.append(_q(name, "=", ""))
    elif op == "isNotNull":
        into.append(_q(name, "!=", ""))
    elif op in _LIKE:
        assert isinstance(value, str)
        into.append(_q(name, _LIKE[op], value))
    elif op in ("in", "notIn"):
        assert isinstance(value, tuple)
        values = [_wire(v, kind) for v in value]
        if op == "in":
            into.append({"fieldName": name, "operator": "in", "valueList": values})
        else:
            groups.append(_or_null(name, [{"fieldName": name, "operator": "not in",
                                           "valueList": values}]))
    elif kind == "datetime" and (day := _date_only(value)) is not None:
        _day(name, op, day, into, groups)
    else:
        assert not isinstance(value, tuple)
        wire = _wire(value, kind)
        assert wire is not None
        if op == "==":
            into.append(_q(name, "=", wire))
        elif op == "!=":
            groups.append(_or_null(name, [_q(name, "!=", wire)]))
        else:
            into.append(_q(name, _COMPARE[op], wire))


def to_filter_group(filter: Filter, fields: Mapping[str, FieldInfo]) -> dict[str, Any] | None:
    """The ``filterGroup`` for a pushed filter (an OR of AND groups); None matches every record."""
    ands: list[dict[str, Any]] = []
    for group in filter:
        if not group.conditions:
            return None  # an empty group matches every record, so the whole OR does
        into: list[dict[str, Any]] = []
        nested: list[dict[str, Any]] = []
        for cond in group.conditions:
            field = fields.get(cond.field)
            if field is None or not pushable(cond, field):
                raise Unsupported("condition_not_pushable", {
                    "field": cond.field, "operator": cond.operator,
                    "backend": "the Data Service"})
            _add(cond, _kind(field), into, nested)
        ands.append(_group(AND, into, nested))
    if not ands:
        return None
    if len(ands) == 1:
        return ands[0]
    return _group(OR, [], ands)


def sort_options(keys: tuple[OrderKey, ...]) -> list[dict[str, Any]]:
    return [{"fieldName": wire_name(k.field), "isDescending": k.descending} for k in keys]
