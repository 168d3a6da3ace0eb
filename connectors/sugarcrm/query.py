"""Sugar filter JSON: what a pushed query becomes on the wire, and which conditions may go there.

Every condition pushed must match exactly the records ``gateway/query/evaluate.py`` would match
(null, case and date-only rules included); anything else stays in the gateway. Sugar quirks
handled here (see /work/shared/backends/sugarcrm-v10.md §6):

- ``$not_equals`` drops NULL rows while the gateway's ``!=`` keeps them: sent as an ``$or`` with
  ``$is_null``; ``$not_in`` already keeps NULLs.
- Inside ``$or`` every key of every member joins the OR: each member has exactly one key and AND
  groups are wrapped in ``$and``.
- LIKE wildcards ``%`` ``_`` (and MySQL's escape ``\\``) are not escaped: such values stay here.
- An empty-string member of ``$in``/``$not_in`` changes its NULL handling: stays here.
- Date-only values on datetime fields become UTC day boundaries, but ``$gt``/``$lt`` each miss
  one boundary second; ``> d`` goes as ``$gte d+1`` and ``< d`` as ``$lte d-1`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.sugarcrm.batch import BULK_LIMIT
from gateway.connector import Capabilities, Collation, FieldInfo, IdShape
from gateway.errors import Unsupported
from gateway.query.model import OPERATORS, Condition, Filter, OrderKey, Scalar

__all__ = ["COLLATION", "NOTES", "capabilities", "order_by", "pushable", "to_filter"]

_COMPARE = {">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte"}
_LIKE = {"contains": "$contains", "startsWith": "$starts", "endsWith": "$ends"}
_EQUALITY = frozenset({"==", "!=", "in", "notIn"})
_NULLS = frozenset({"isNull", "isNotNull"})
_ORDERED = frozenset(_COMPARE) | _EQUALITY | _NULLS

# Operators Sugar evaluates like the gateway, per field type (values checked in ``pushable``).
_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset(OPERATORS),
    "integer": _ORDERED,
    "number": _ORDERED,
    "date": _ORDERED,
    "datetime": frozenset(_COMPARE) | {"==", "!="} | _NULLS,
    "boolean": frozenset({"==", "!="}) | _NULLS,
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

NOTES: dict[str, str] = {
    "==": "$equals; strings case-insensitive; date-only on a datetime field = that UTC day",
    "!=": "$not_equals OR $is_null (Sugar's $not_equals alone drops nulls)",
    ">": "$gt; date-only on a datetime field sent as $gte next day",
    ">=": "$gte",
    "<": "$lt; date-only on a datetime field sent as $lte previous day",
    "<=": "$lte",
    "in": "$in; a list with an empty string is finished in the gateway",
    "notIn": "$not_in (keeps nulls); a list with an empty string is finished in the gateway",
    "contains": "$contains, case-insensitive; values with % _ \\ finished in the gateway",
    "startsWith": "$starts, case-insensitive; values with % _ \\ finished in the gateway",
    "endsWith": "$ends, case-insensitive; values with % _ \\ finished in the gateway",
    "isNull": "$is_null",
    "isNotNull": "$not_null",
    "or": "OR of AND groups as $or of $and",
    "sort": "order_by with several keys, id appended as tie-break",
    "paging": "offset/max_num, next_offset; totals from /<Module>/count",
    "fields": "email, team_name, relate/link/multienum fields are neither filtered nor sorted",
    "batch": "POST /bulk, up to 50 creates, updates (X-Timestamp) and deletes per call, each "
    "item judged as the call alone; Sugar runs every item (no failOnFirst)",
    "ids": "1 to 36 letters, digits, _ or - (Sugar's char(36) id column: UUIDs and imported "
    "ids); the words Sugar routes beside ids (filter, count, MassUpdate, …) are 400",
}

# Sugar makes UUIDs but stores any id up to 36 characters that a client gave on create. The
# words are the routes Sugar's REST router matches under /<Module>/ where an id would stand:
# `PUT /Accounts/MassUpdate` updates every record the body's filter names.
ID_SHAPE = IdShape(
    r"[A-Za-z0-9_-]{1,36}", "1 to 36 letters, digits, _ or -",
    reserved=frozenset({
        "filter", "count", "massupdate", "duplicatecheck", "config", "export", "enum", "temp",
        "file", "globalsearch", "recent", "link", "audit", "favorite", "subscribe",
        "unsubscribe", "vcard", "pii", "customfieldsget", "collection", "related",
    }),
)


# MySQL's utf8 *_ci collations: case-insensitive, PAD SPACE ('a ' = 'a' in =, <, > and ORDER BY,
# not in LIKE), NULL first ascending; the connector appends id to every order_by.
COLLATION = Collation(
    case_insensitive=True, pad_space=True, nulls_first=True, id_order="string order",
    unicode="accents kept, code point order (the emulator's model; a real *_general_ci "
    "collation also folds accents, é = e, and orders by its own weights)",
)
NOTES["collation"] = COLLATION.describe()


def capabilities(max_page: int) -> Capabilities:
    return Capabilities(
        operators=frozenset(OPERATORS),
        or_groups=True,
        sort=True,
        multi_sort=True,
        max_page=max_page,
        counts=True,
        native_batch=True,
        batch_limit=BULK_LIMIT,
        batch_actions=frozenset({"create", "update", "delete"}),
        batch_fail_on_first=False,  # /bulk runs every item whatever the others did
        collation=COLLATION,
        id_shape=ID_SHAPE,
    )


def _date_only(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _datetime(value: Any) -> str | None:
    """A full ISO date-time with an offset and whole seconds, as UTC on Sugar's wire form."""
    if not isinstance(value, str) or len(value) <= 10:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.microsecond:
        return None  # a naive time means the user's zone on Sugar; sub-seconds are not stored
    try:
        utc = parsed.astimezone(UTC).replace(tzinfo=None)
        return utc.isoformat(timespec="seconds") + "+00:00"  # (strftime drops year 0001's zeros)
    except OverflowError:  # an instant before 0001-01-01 or after 9999-12-31 in UTC
        return None


def _wire(value: Scalar, ftype: str) -> Any:
    """The value as Sugar should receive it, or None when Sugar would compare it differently."""
    if value is None:
        return None
    if ftype == "string":
        # Trailing spaces are ignored by MySQL's = and <, and by the gateway under COLLATION.
        if not isinstance(value, str) or value == "":
            return None
        return value
    if ftype in ("integer", "number"):
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return value
        if isinstance(value, str) and _NUMBER.match(value):
            return int(value) if "." not in value else float(value)
        return None
    if ftype == "boolean":
        return value if isinstance(value, bool) else None
    if ftype == "date":
        return value if _date_only(value) is not None else None
    if ftype == "datetime":
        return _datetime(value)
    return None


def _like_ok(value: Scalar) -> bool:
    # Empty patterns are left to the gateway too: Sugar may treat an empty value as no filter.
    return isinstance(value, str) and value != "" and not any(ch in value for ch in "%_\\")


def pushable(condition: Condition, field: FieldInfo | None) -> bool:
    """Whether Sugar answers this condition exactly as the gateway would."""
    if field is None or not field.filterable or field.multivalued:
        return False
    op, value = condition.operator, condition.value
    if op not in _BY_TYPE.get(field.type, frozenset()):
        return False
    if op in _NULLS:
        return True
    if op in _LIKE:
        return not isinstance(value, tuple) and _like_ok(value)
    if field.type == "datetime" and (day := _date_only(value)) is not None:
        # > d, < d and != d are sent with the day after / before, which the calendar may lack.
        return (op in _COMPARE or op in ("==", "!=")) and (
            op not in (">", "!=") or day < date.max) and (op not in ("<", "!=") or day > date.min)
    if op in ("in", "notIn"):
        if not isinstance(value, tuple) or not value:
            return False
        return all(_wire(v, field.type) is not None for v in value)
    if isinstance(value, tuple):
        return False
    return _wire(value, field.type) is not None


def _not_equal(name: str, positive: list[dict[str, Any]]) -> dict[str, Any]:
    """``not (any of positive)`` with nulls matching, as one ``$or`` of one-key members."""
    return {"$or": [*positive, {name: {"$is_null": ""}}]}


def _day_expr(name: str, op: str, day: date) -> dict[str, Any]:
    """A date-only condition on a datetime field, exact to the gateway's UTC-day rule."""
    d = day.isoformat()
    if op == "==":
        return {name: {"$equals": d}}  # Sugar: BETWEEN d 00:00:00 AND d 23:59:59
    if op == ">=":
        return {name: {"$gte": d}}
    if op == "<=":
        return {name: {"$lte": d}}
    # pushable() keeps the calendar's first day from < and !=, its last from > and !=.
    def before() -> dict[str, Any]:  # $lte d-1 → through (d-1) 23:59:59
        return {name: {"$lte": (day - timedelta(days=1)).isoformat()}}

    def after() -> dict[str, Any]:  # $gte d+1 → from (d+1) 00:00:00
        return {name: {"$gte": (day + timedelta(days=1)).isoformat()}}

    if op == "!=":
        return _not_equal(name, [before(), after()])
    return after() if op == ">" else before()  # ">" or "<"


def _expr(cond: Condition, field: FieldInfo) -> dict[str, Any]:
    name, op, value = cond.field, cond.operator, cond.value
    if op == "isNull":
        return {name: {"$is_null": ""}}
    if op == "isNotNull":
        return {name: {"$not_null": ""}}
    if op in _LIKE:
        return {name: {_LIKE[op]: value}}
    if field.type == "datetime":
        day = _date_only(value)
        if day is not None:
            return _day_expr(name, op, day)
    if op in ("in", "notIn"):
        assert isinstance(value, tuple)
        members = [_wire(v, field.type) for v in value]
        return {name: {"$in" if op == "in" else "$not_in": members}}
    assert not isinstance(value, tuple)
    wire = _wire(value, field.type)
    if op == "==":
        return {name: {"$equals": wire}}
    if op == "!=":
        return _not_equal(name, [{name: {"$not_equals": wire}}])
    return {name: {_COMPARE[op]: wire}}


def to_filter(filter: Filter, fields: Mapping[str, FieldInfo]) -> list[dict[str, Any]]:
    """The Sugar ``filter`` array for a pushed filter (an OR of AND groups)."""
    groups: list[list[dict[str, Any]]] = []
    for group in filter:
        exprs = []
        for cond in group.conditions:
            field = fields.get(cond.field)
            if not pushable(cond, field):
                raise Unsupported("condition_not_pushable", {
                    "field": cond.field, "operator": cond.operator, "backend": "SugarCRM"})
            assert field is not None
            exprs.append(_expr(cond, field))
        if not exprs:
            return []  # an empty group matches every record, so the whole OR does
        groups.append(exprs)
    if not groups:
        return []
    if len(groups) == 1:
        return groups[0]  # the top-level array is ANDed
    return [{"$or": [g[0] if len(g) == 1 else {"$and": g} for g in groups]}]


def order_by(keys: tuple[OrderKey, ...]) -> str | None:
    """Sugar's ``order_by`` string: ``f:asc,g:desc``."""
    if not keys:
        return None
    return ",".join(f"{k.field}:{'desc' if k.descending else 'asc'}" for k in keys)
