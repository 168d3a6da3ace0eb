"""Parse a Records query (POST body or GET parameters) into a validated, normalized ``Query``.

Every problem is collected, not just the first (``gateway.query.problems``): the error raised
carries one ``Detail`` per problem, with a path such as ``filter[0][1].operator``, a message id
(``key``) with its ``params`` for translation, and the English ``msg``. The error class is that
of the first problem's area: filter → InvalidFilter, orderBy → InvalidOrder, pageSize/pageNo →
InvalidPage, anything else (body shape, unknown keys, fields) → InvalidRequest. Sizes are bounded
by ``gateway.query.limits``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import orjson

from gateway.connector import EntityInfo, FieldInfo
from gateway.query.evaluate import coerce
from gateway.query.limits import DEFAULT_LIMITS, QueryLimits, show
from gateway.query.model import (
    LIST_OPERATORS,
    OPERATORS,
    VALUELESS_OPERATORS,
    Condition,
    Filter,
    Group,
    Operator,
    OrderKey,
    Query,
    Scalar,
)
from gateway.query.problems import Area, Problems

__all__ = [
    "BODY_KEYS", "DEFAULT_PAGE_SIZE", "QueryLimits", "parse_body", "parse_params",
    "split_list",
]

DEFAULT_PAGE_SIZE = 100
BODY_KEYS = ("fields", "filter", "orderBy", "pageSize", "pageNo")

_CONDITION_KEYS = frozenset({"field", "operator", "value"})
_ORDER_KEYS = frozenset({"field", "order"})
_MISSING = object()
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def _json(text: str, path: str, area: Area, problems: Problems) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        problems.add(area, path, "bad_json", error=str(exc))
        return _MISSING


def split_list(text: str) -> tuple[str, ...]:
    r"""Split a comma-separated ``in`` value: ``\,`` is a literal comma, ``\\`` a backslash.

    Any other backslash is kept as written. Items are not trimmed: ``"a, b"`` holds ``" b"``.
    """
    items: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in ",\\":
            current.append(text[i + 1])
            i += 2
            continue
        if ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    items.append("".join(current))
    return tuple(items)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _check_type(
    value: Scalar, info: FieldInfo | None, path: str, problems: Problems
) -> None:
    if info is None or value is None or info.type in ("string", "file", "json"):
        return
    try:
        coerce(value, info.type)
    except (ValueError, TypeError):
        problems.add(
            "filter", path, "bad_value_type", value=show(value), type=info.type, field=info.name
        )


def _long(value: Any, path: str, problems: Problems) -> bool:
    if isinstance(value, str) and len(value) > problems.limits.value_chars:
        problems.add("filter", path, "value_too_long", max=problems.limits.value_chars)
        return True
    return False


def _condition(raw: Any, path: str, problems: Problems) -> Condition | None:
    if not isinstance(raw, dict):
        problems.add("filter", path, "condition_not_object")
        return None
    for key in raw:
        if key not in _CONDITION_KEYS:
            problems.add("filter", f"{path}.{show(key)}", "unknown_key", key=show(key))
    ok = True
    name = raw.get("field", _MISSING)
    info: FieldInfo | None = None
    if name is _MISSING:
        problems.add("filter", f"{path}.field", "missing_field")
        ok = False
    elif not isinstance(name, str) or not name.strip():
        problems.add("filter", f"{path}.field", "bad_field_name")
        ok = False
    elif not problems.name_ok("filter", f"{path}.field", name):
        ok = False
    else:
        info = problems.field("filter", f"{path}.field", name)
    op = raw.get("operator", _MISSING)
    if op is _MISSING:
        problems.add("filter", f"{path}.operator", "missing_operator")
        return None
    if not isinstance(op, str) or op not in OPERATORS:
        problems.add(
            "filter", f"{path}.operator", "bad_operator", operator=show(op),
            allowed=", ".join(OPERATORS),
        )
        return None
    value = raw.get("value", _MISSING)
    vpath = f"{path}.value"
    result: Scalar | tuple[Scalar, ...]
    if op in VALUELESS_OPERATORS:
        if value is not _MISSING and value is not None:
            problems.add("filter", vpath, "unexpected_value", operator=op)
        result = None
    elif value is _MISSING:
        problems.add("filter", vpath, "missing_value", operator=op)
        return None
    elif value is None:
        if op not in ("==", "!="):
            problems.add("filter", vpath, "null_value", operator=op)
            return None
        op, result = ("isNull" if op == "==" else "isNotNull"), None
    elif op in LIST_OPERATORS:
        limits = problems.limits
        if isinstance(value, str):
            if len(value) > limits.list_text_chars:
                problems.add("filter", vpath, "value_too_long", max=limits.list_text_chars)
                return None
            items: list[Any] = list(split_list(value))
        elif isinstance(value, list):
            items = value
        else:
            problems.add("filter", vpath, "bad_list_value", operator=op)
            return None
        if not items:
            problems.add("filter", vpath, "empty_list", operator=op)
            return None
        if problems.too_many("filter", vpath, items, limits.list_items, "too_many_values",
                             operator=op):
            return None
        for k, item in enumerate(items):
            if item is None or not _is_scalar(item):
                problems.add("filter", f"{vpath}[{k}]", "bad_list_item")
                ok = False
            elif _long(item, f"{vpath}[{k}]", problems):
                ok = False
            else:
                _check_type(item, info, f"{vpath}[{k}]", problems)
        result = tuple(items)
    elif not _is_scalar(value):
        problems.add("filter", vpath, "bad_value")
        return None
    elif _long(value, vpath, problems):
        return None
    else:
        if op not in ("contains", "startsWith", "endsWith"):
            _check_type(value, info, vpath, problems)
        result = value
    if not ok:
        return None
    return Condition(cast(str, name), cast(Operator, op), result)


def _filter(raw: Any, problems: Problems) -> Filter:
    if raw is None or raw is _MISSING:
        return ()
    if isinstance(raw, str):
        if not raw.strip():
            return ()
        raw = _json(raw, "filter", "filter", problems)
        if raw is _MISSING or raw is None:
            return ()
    if not isinstance(raw, list):
        problems.add("filter", "filter", "filter_not_list")
        return ()
    limits = problems.limits
    if problems.too_deep("filter", "filter", raw) or problems.too_many(
        "filter", "filter", raw, limits.groups, "too_many_groups"
    ):
        return ()
    total = sum(len(group) for group in raw if isinstance(group, list))
    if total > limits.total_conditions:
        problems.add("filter", "filter", "too_many_filter_conditions", max=limits.total_conditions)
        return ()
    groups: list[Group] = []
    for i, group in enumerate(raw):
        if not isinstance(group, list):
            problems.add("filter", f"filter[{i}]", "group_not_list")
            continue
        if not group:
            problems.add("filter", f"filter[{i}]", "empty_group")
            continue
        if problems.too_many("filter", f"filter[{i}]", group, limits.conditions,
                             "too_many_conditions"):
            continue
        conds = [_condition(c, f"filter[{i}][{j}]", problems) for j, c in enumerate(group)]
        groups.append(Group(tuple(c for c in conds if c is not None)))
    return tuple(groups)


def _order(raw: Any, problems: Problems) -> tuple[OrderKey, ...]:
    if raw is None or raw is _MISSING:
        return ()
    if isinstance(raw, str):
        if not raw.strip():
            return ()
        raw = _json(raw, "orderBy", "orderBy", problems)
        if raw is _MISSING or raw is None:
            return ()
    if not isinstance(raw, list):
        problems.add("orderBy", "orderBy", "order_not_list")
        return ()
    if problems.too_deep("orderBy", "orderBy", raw) or problems.too_many(
        "orderBy", "orderBy", raw, problems.limits.order_keys, "too_many_order_keys"
    ):
        return ()
    keys: list[OrderKey] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path = f"orderBy[{i}]"
        if not isinstance(item, dict):
            problems.add("orderBy", path, "order_item_not_object")
            continue
        for key in item:
            if key not in _ORDER_KEYS:
                problems.add("orderBy", f"{path}.{show(key)}", "unknown_key", key=show(key))
        name = item.get("field", _MISSING)
        if name is _MISSING:
            problems.add("orderBy", f"{path}.field", "missing_field")
            continue
        if not isinstance(name, str) or not name.strip():
            problems.add("orderBy", f"{path}.field", "bad_field_name")
            continue
        if not problems.name_ok("orderBy", f"{path}.field", name):
            continue
        problems.field("orderBy", f"{path}.field", name)
        order = item.get("order")
        descending = False
        if order is not None:
            word = order.upper() if isinstance(order, str) else None
            if word not in ("ASC", "DESC"):
                problems.add("orderBy", f"{path}.order", "bad_order", order=show(order))
            descending = word == "DESC"
        if name in seen:
            problems.add("orderBy", f"{path}.field", "duplicate_order_field", field=name)
            continue
        seen.add(name)
        keys.append(OrderKey(name, descending))
    return tuple(keys)


def _fields(raw: Any, problems: Problems) -> tuple[str, ...] | None:
    if raw is None or raw is _MISSING:
        return None
    if isinstance(raw, str):
        names: list[Any] = [n.strip() for n in raw.split(",")] if raw.strip() else []
    elif isinstance(raw, list):
        names = raw
    else:
        problems.add("request", "fields", "fields_not_list")
        return None
    if not names:
        return None  # "" and [] mean every field, like an absent `fields`
    if problems.too_deep("request", "fields", names) or problems.too_many(
        "request", "fields", names, problems.limits.fields, "too_many_fields"
    ):
        return None
    out: list[str] = []
    for k, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            problems.add("request", f"fields[{k}]", "bad_field_name")
            continue
        name = name.strip()
        if not problems.name_ok("request", f"fields[{k}]", name):
            continue
        problems.field("request", f"fields[{k}]", name)
        if name not in out:
            out.append(name)
    return tuple(out)


def _int(raw: Any, name: str, lenient: bool, problems: Problems) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if lenient and isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        return int(raw.strip())
    problems.add("page", name, "not_integer", name=name)
    return None


def _page(
    size_raw: Any, no_raw: Any, max_page_size: int, lenient: bool, problems: Problems
) -> tuple[int, int]:
    size, number = min(DEFAULT_PAGE_SIZE, max_page_size), 1
    if size_raw is not None and size_raw is not _MISSING and size_raw != "":
        value = _int(size_raw, "pageSize", lenient, problems)
        if value is not None:
            if 1 <= value <= max_page_size:
                size = value
            else:
                problems.add("page", "pageSize", "page_size_range", max=max_page_size)
    if no_raw is not None and no_raw is not _MISSING and no_raw != "":
        value = _int(no_raw, "pageNo", lenient, problems)
        if value is not None:
            if value < 1:
                problems.add("page", "pageNo", "page_no_range")
            elif (value - 1) * size > problems.limits.offset:
                # No backend can skip that many records (their offsets are 32-bit at best),
                # and past 64 bits the number cannot even be sent.
                problems.add("page", "pageNo", "page_too_far", max=problems.limits.offset)
            else:
                number = value
    return size, number


def _build(
    raw: Mapping[str, Any], max_page_size: int, entity: EntityInfo | None, lenient: bool,
    problems: Problems,
) -> Query:
    filt = _filter(raw.get("filter"), problems)
    order = _order(raw.get("orderBy"), problems)
    fields = _fields(raw.get("fields"), problems)
    size, number = _page(
        raw.get("pageSize"), raw.get("pageNo"), max_page_size, lenient, problems
    )
    problems.raise_if_any()
    return Query(filt, order, fields, size, number)


def parse_body(
    body: Any, *, max_page_size: int, entity: EntityInfo | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> Query:
    """The POST ``/query`` body (already JSON-decoded) as a Query; raises InvalidRequest & co."""
    problems = Problems(entity, limits)
    if not isinstance(body, dict):
        problems.add("request", "body", "body_not_object")
        problems.raise_if_any()
    for key in body:
        if key not in BODY_KEYS:
            problems.add("request", show(key), "unknown_key", key=show(key))
    return _build(body, max_page_size, entity, False, problems)


def parse_params(
    params: Mapping[str, str], *, max_page_size: int, entity: EntityInfo | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> Query:
    """The GET form: ``filter``/``orderBy`` as JSON text, ``fields`` comma-separated, numbers as
    text. Other parameters (``orgId``, ``locale``, routing extras) are left to the caller."""
    return _build(params, max_page_size, entity, True, Problems(entity, limits))
