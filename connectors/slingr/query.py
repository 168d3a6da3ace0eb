"""Slingr query strings: what a pushed query becomes on the wire, and which conditions may go.

Every condition pushed must match exactly the records ``gateway/query/evaluate.py`` would match;
anything else stays in the gateway. The wire forms [SD-QL]:

- one AND group whose fields are all different → plain parameters ``field=<value>``;
- anything else (OR of groups, a field twice, ``notIn``) → ``_query=or(and(filter('f','v'),…),…)``;
- ``<value>``: a bare value means equality and commas mean OR (``type=a,b``), a value holding a
  comma is written in double quotes; operators are functions ``greater(5)``, ``like(/ab)``,
  ``empty()``.

Values these forms cannot carry unambiguously (a double quote, a slash at either end of a
``like``, an empty string) are left to the gateway rather than guessed at. Text is compared
case-sensitively on Slingr, so the source declares ``case_insensitive=False``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from connectors.slingr.types import UNKNOWN, Kind, kind_of
from gateway.connector import Capabilities, Collation, FieldInfo, IdShape
from gateway.errors import Unsupported
from gateway.query.model import OPERATORS, Condition, Filter, OrderKey, Scalar

__all__ = [
    "DELETE_CHUNK",
    "NOTES",
    "capabilities",
    "pushable",
    "sort_params",
    "to_params",
]

_COMPARE = {">": "greater", ">=": "greaterOrEquals", "<": "less", "<=": "lessOrEquals"}
_LIKE = {"contains": "{}", "startsWith": "/{}", "endsWith": "{}/"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A double quote toggles Slingr's comma quoting and has no escape: such values stay here.
_UNSAFE = '"'
# A bare value shaped like an operator call (``like(x)``) would be read as one.
_CALL = re.compile(r"^\w+\(.*\)$", re.S)

# Ids per delete-by-ids call: 100 keep the URL well under common 8 KB limits (Slingr itself
# deletes up to 1,000 synchronously).
DELETE_CHUNK = 100

NOTES: dict[str, str] = {
    "==": "field=value (a value with a comma in double quotes); text is case-sensitive",
    "!=": "notEquals(v); matches records where the field is empty, as the gateway's != does",
    ">": "greater(v) on text, numbers, dates, date-times (epoch ms); not on boolean or choice",
    ">=": "greaterOrEquals(v); same types as >",
    "<": "less(v); same types as >",
    "<=": "lessOrEquals(v); same types as >",
    "in": "field=a,b,c (values with commas in double quotes); on a choice only values among "
    "its configured options go (Slingr refuses others), the gateway answers the rest",
    "notIn": "_query and(filter(f,'notEquals(a)'),…)",
    "contains": "like(v), case-sensitive, on text fields only; values with a double quote or "
    "a slash at either end finished in the gateway",
    "startsWith": "like(/v) on text fields only",
    "endsWith": "like(v/) on text fields only",
    "isNull": "empty() on numbers, dates, choices, relationships; on text and boolean "
    "finished in the gateway (Slingr's empty() also matches \"\")",
    "isNotNull": "notEmpty(); same types as isNull",
    "or": "OR of AND groups pushed whole as _query=or(and(filter(…)),…)",
    "sort": "one key only (_sortField/_sortType); nested and multi-valued fields not sortable",
    "paging": "numeric _offset/_size (max 1000) for pages; id offsets for full walks",
    "fields": "_fields; nested paths (contactInformation.email) filterable, sortable and shown "
    "when the gateway finishes them too; date-times are epoch milliseconds; values of fields "
    "whose type was guessed from a sample are finished in the gateway (one may be a choice)",
    "batch": "deletes only: DELETE /data/<entity>/<id1,id2,…>, up to 100 ids per call, a "
    "result per id; no batch create or update exists",
    "ids": "24 hexadecimal digits (MongoDB ObjectId); anything else (a comma list, ., an "
    "action, auditLogs, history, aggregate) is 400 before any call",
}

# Slingr ids are MongoDB ObjectIds; every word Slingr routes beside an id (actions,
# auditLogs, history, aggregate, import, export) and every id list fails this shape.
ID_SHAPE = IdShape(r"[0-9a-fA-F]{24}", "24 hexadecimal digits")


# Slingr (MongoDB) compares and sorts text case-sensitively by code point, trailing spaces
# counted, missing values first ascending; the gateway finishes this source's residuals the
# same way, so pushed and finished parts agree. Slingr sorts by one key: the gateway breaks ties.
COLLATION = Collation(
    case_insensitive=False, pad_space=False, nulls_first=True,
    id_order="string order (ObjectIds: creation order)",
    unicode="accents kept, code point order (MongoDB's binary order)",
)
NOTES["collation"] = COLLATION.describe()


def capabilities(max_page: int, *, files: bool = True) -> Capabilities:
    return Capabilities(
        operators=frozenset(OPERATORS),
        or_groups=True,
        sort=True,
        multi_sort=False,
        max_page=max_page,
        counts=True,
        page_totals=True,  # each list answer carries the total: no separate count call
        # Delete by comma-separated ids is the only batch write.
        native_batch=True,
        batch_limit=DELETE_CHUNK,
        batch_actions=frozenset({"delete"}),
        batch_fail_on_first=False,  # every id is tried whatever the others did
        collation=COLLATION,
        files=files,
        id_shape=ID_SHAPE,
    )


def _kind(field: FieldInfo) -> Kind:
    """The Slingr type the field was described with (``FieldInfo.kind``), else its type."""
    return kind_of(field.kind or field.type)


def _wire(value: Scalar, kind: Kind) -> str | None:
    """The value as Slingr should read it, or None when it would compare differently."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if kind.gateway in ("integer", "number"):
        if isinstance(value, bool):
            return None
        raw = repr(value) if isinstance(value, float) else str(value).strip()
        if not _NUMBER.match(raw):
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return None
        if kind.gateway == "integer" and number != number.to_integral_value():
            return None
        return format(number.normalize(), "f") if number else "0"
    if kind.gateway == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        word = str(value).strip().lower()
        return {"true": "true", "1": "true", "false": "false", "0": "false"}.get(word)
    if kind.gateway == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return None
        try:
            date.fromisoformat(value)
        except ValueError:
            return None
        return value
    if kind.gateway != "string" or isinstance(value, bool):
        return None
    text = str(value)
    if text == "" or _UNSAFE in text:
        return None
    return text


def _quote(text: str) -> str:
    """One value of a comma list (comma-OR, or an operator's arguments)."""
    return f'"{text}"' if "," in text else text


def _equals(wires: list[str]) -> str:
    """Equality with any of ``wires``: bare ``a,b`` unless that would read as an operator."""
    listed = ",".join(_quote(w) for w in dict.fromkeys(wires))
    return f"equals({listed})" if _CALL.match(listed) else listed


def _names_ok(field: FieldInfo, value: Scalar | tuple[Scalar, ...]) -> bool:
    """Whether Slingr takes these values on this field. A choice takes only its option names
    (anything else is a 400, where the gateway's answer is "equal to nothing"), so its values
    go only when the options are configured and hold them all; a field whose type was only
    inferred may be a choice, so none of its values go."""
    slingr_type = field.kind or field.type
    if slingr_type == UNKNOWN:
        return False
    if slingr_type != "choice":
        return True
    values = value if isinstance(value, tuple) else (value,)
    return field.options is not None and all(
        isinstance(v, str) and v in field.options for v in values)


def pushable(condition: Condition, field: FieldInfo | None) -> bool:
    """Whether Slingr answers this condition exactly as the gateway would."""
    if field is None or not field.filterable:
        return False
    kind = _kind(field)
    op, value = condition.operator, condition.value
    if op not in ("isNull", "isNotNull") and not _names_ok(field, value):
        return False
    if op == "isNull":
        return "empty" in kind.functions
    if op == "isNotNull":
        return "notEmpty" in kind.functions
    if not kind.scalar:
        return False  # an object value: the gateway compares its JSON text, Slingr its label
    if op in _LIKE:
        wire = _wire(value, kind) if not isinstance(value, tuple) else None
        return "like" in kind.functions and wire is not None and "/" not in (wire[0], wire[-1])
    if op in _COMPARE:
        if op not in _COMPARE or _COMPARE[op] not in kind.functions or isinstance(value, tuple):
            return False
        return _wire(value, kind) is not None
    if op == "!=":
        wire = _wire(value, kind) if not isinstance(value, tuple) else None
        return "notEquals" in kind.functions and wire is not None
    if op == "==":
        return not isinstance(value, tuple) and _wire(value, kind) is not None
    if op in ("in", "notIn"):
        if not isinstance(value, tuple) or not value:
            return False
        if op == "notIn" and "notEquals" not in kind.functions:
            return False
        return all(_wire(v, kind) is not None for v in value)
    return False


def _value(cond: Condition, kind: Kind) -> str:
    """The Slingr value string for one pushable condition (``notIn`` excluded)."""
    op, value = cond.operator, cond.value
    if op == "isNull":
        return "empty()"
    if op == "isNotNull":
        return "notEmpty()"
    if op == "in":
        assert isinstance(value, tuple)
        return _equals([_wire(v, kind) or "" for v in value])
    assert not isinstance(value, tuple)
    wire = _wire(value, kind)
    assert wire is not None
    if op == "==":
        return _equals([wire])
    if op == "!=":
        return f"notEquals({_quote(wire)})"
    if op in _LIKE:
        return f"like({_LIKE[op].format(wire)})"  # like's argument is taken whole, commas too
    return f"{_COMPARE[op]}({_quote(wire)})"


def _terms(cond: Condition, field: FieldInfo) -> list[tuple[str, str]]:
    """(field, value) pairs that must all hold; ``notIn`` is one notEquals per value."""
    kind = _kind(field)
    if cond.operator == "notIn":
        assert isinstance(cond.value, tuple)
        wires = dict.fromkeys(_wire(v, kind) or "" for v in cond.value)
        return [(cond.field, f"notEquals({_quote(w)})") for w in wires]
    return [(cond.field, _value(cond, kind))]


def _literal(text: str) -> str:
    """A ``_query`` string: single-quoted, ``\\`` and ``'`` escaped with a backslash."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _filter_call(name: str, value: str) -> str:
    return f"filter({_literal(name)},{_literal(value)})"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"and({','.join(parts)})"


def to_params(filter: Filter, fields: Mapping[str, FieldInfo]) -> dict[str, str]:
    """Query parameters for a pushed filter (an OR of AND groups); ``{}`` matches everything."""
    groups: list[list[tuple[str, str]]] = []
    for group in filter:
        terms: list[tuple[str, str]] = []
        for cond in group.conditions:
            field = fields.get(cond.field)
            if field is None or not pushable(cond, field):
                raise Unsupported("condition_not_pushable", {
                    "field": cond.field, "operator": cond.operator, "backend": "Slingr"})
            terms.extend(_terms(cond, field))
        if not terms:
            return {}  # an empty group matches every record, so the whole OR does
        groups.append(terms)
    if not groups:
        return {}
    if len(groups) == 1:
        names = [name for name, _ in groups[0]]
        if len(set(names)) == len(names) and not any(n.startswith("_") for n in names):
            return dict(groups[0])
    ands = [_and([_filter_call(n, v) for n, v in g]) for g in groups]
    return {"_query": ands[0] if len(ands) == 1 else f"or({','.join(ands)})"}


def sort_params(keys: tuple[OrderKey, ...]) -> dict[str, str]:
    """``_sortField``/``_sortType`` for at most one key (Slingr sorts by one field)."""
    if not keys:
        return {}
    if len(keys) > 1:
        raise Unsupported("single_sort_only", {
            "backend": "Slingr", "fields": ", ".join(k.field for k in keys)})
    key = keys[0]
    return {"_sortField": key.field, "_sortType": "desc" if key.descending else "asc"}
