"""Bounds on a query: each crossing is a 400 naming the bound and the path, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.errors import GatewayError, InvalidFilter, InvalidOrder, InvalidPage, InvalidRequest
from gateway.i18n import CATALOGS
from gateway.query.limits import DEFAULT_LIMITS, QueryLimits, nesting_depth, show
from gateway.query.parse import parse_body, parse_params

MAX = 1000
SMALL = QueryLimits(groups=3, conditions=2, total_conditions=5, list_items=3, value_chars=10,
                    list_text_chars=20, name_chars=8, order_keys=2, fields=3, depth=6, details=4)


def cond(field: str = "name", op: str = "==", value: Any = "x") -> dict[str, Any]:
    return {"field": field, "operator": op, "value": value}


def refused(cls: type[GatewayError], body: dict[str, Any], limits: QueryLimits = SMALL,
            *, get: bool = False) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        if get:
            parse_params(body, max_page_size=MAX, limits=limits)
        else:
            parse_body(body, max_page_size=MAX, limits=limits)
    err = info.value
    assert type(err) is cls and err.status == 400
    for d in err.details:
        assert d.msg == CATALOGS["en-US"][d.key].format(**d.params)
    return err


def first(err: GatewayError) -> tuple[str, str | None, Any]:
    d = err.details[0]
    return d.path, d.key, d.params.get("max")


def test_at_the_bounds_everything_is_accepted() -> None:
    body = {
        "filter": [[cond(value="a" * 10), cond("b", "in", ["1", "2", "3"])],
                   [cond("c")], [cond("d", "in", "p,q,r")]],
        "orderBy": [{"field": "name"}, {"field": "b", "order": "DESC"}],
        "fields": ["a", "bbbbbbbb", "c"],
    }
    q = parse_body(body, max_page_size=MAX, limits=SMALL)
    assert len(q.filter) == 3 and len(q.order_by) == 2 and q.fields == ("a", "bbbbbbbb", "c")


@pytest.mark.parametrize(("body", "expected"), [
    ({"filter": [[cond()]] * 4}, ("filter", "too_many_groups", 3)),
    ({"filter": [[cond(), cond(), cond()]]}, ("filter[0]", "too_many_conditions", 2)),
    ({"filter": [[cond(), cond()]] * 3}, ("filter", "too_many_filter_conditions", 5)),
    ({"filter": [[cond(op="in", value=["1", "2", "3", "4"])]]},
     ("filter[0][0].value", "too_many_values", 3)),
    ({"filter": [[cond(op="in", value="1,2,3,4")]]}, ("filter[0][0].value", "too_many_values", 3)),
    ({"filter": [[cond(op="in", value="x" * 21)]]}, ("filter[0][0].value", "value_too_long", 20)),
    ({"filter": [[cond(value="x" * 11)]]}, ("filter[0][0].value", "value_too_long", 10)),
    ({"filter": [[cond(op="in", value=["ok", "y" * 11])]]},
     ("filter[0][0].value[1]", "value_too_long", 10)),
    ({"filter": [[cond(field="f" * 9)]]}, ("filter[0][0].field", "name_too_long", 8)),
    ({"filter": [[cond(op=[[[[[[["=="]]]]]]])]]}, ("filter", "too_deep", 6)),
])
def test_filter_bounds_are_invalid_filter_with_the_path(
    body: dict[str, Any], expected: tuple[str, str, int]
) -> None:
    assert first(refused(InvalidFilter, body)) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ({"orderBy": [{"field": "a"}, {"field": "b"}, {"field": "c"}]},
     ("orderBy", "too_many_order_keys", 2)),
    ({"orderBy": [{"field": "a" * 9}]}, ("orderBy[0].field", "name_too_long", 8)),
    ({"orderBy": [{"field": "a", "order": [[[[[["ASC"]]]]]]}]}, ("orderBy", "too_deep", 6)),
])
def test_order_bounds_are_invalid_order(body: dict[str, Any], expected: Any) -> None:
    assert first(refused(InvalidOrder, body)) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ({"fields": "a,b,c,d"}, ("fields", "too_many_fields", 3)),
    ({"fields": ["a", "b", "c", "d"]}, ("fields", "too_many_fields", 3)),
    ({"fields": ["a" * 9]}, ("fields[0]", "name_too_long", 8)),
])
def test_field_bounds_are_invalid_request(body: dict[str, Any], expected: Any) -> None:
    assert first(refused(InvalidRequest, body)) == expected


def test_the_get_form_has_the_same_bounds() -> None:
    params = {"filter": json.dumps([[cond()]] * 4), "orderBy": json.dumps([{"field": "a"}] * 3)}
    err = refused(InvalidFilter, params, get=True)
    assert [(d.path, d.key) for d in err.details] == [
        ("filter", "too_many_groups"), ("orderBy", "too_many_order_keys")]


def test_a_million_mistakes_earn_a_short_answer_with_the_true_count() -> None:
    body = {"filter": [[{"field": "", "operator": "=="}] * 2] * 3}  # 6 conditions, 2 problems each
    err = refused(InvalidFilter, body, QueryLimits(total_conditions=100, details=4))
    assert len(err.details) == 4
    assert err.params["count"] == 12 and "(and 11 more problems)" in err.msg


def test_deep_nesting_near_orjsons_limits_is_a_400_not_a_crash() -> None:
    # 300 levels: orjson reads it, but would refuse to write it back into an error message.
    deep: Any = "=="
    for _ in range(300):
        deep = [deep]
    for body in ({"filter": [[cond(op=deep)]]}, {"orderBy": [{"field": "a", "order": deep}]},
                 {"fields": deep}, {"filter": [[cond(value=deep)]]}):
        with pytest.raises(GatewayError) as info:
            parse_body(body, max_page_size=MAX)
        assert info.value.status == 400 and info.value.details[0].key == "too_deep"


def test_huge_values_are_not_echoed_whole() -> None:
    body = {"filter": [[{"field": "name", "operator": "~" * 100_000, "value": "1"}]],
            "k" * 100_000: 1}
    err = refused(InvalidRequest, body, DEFAULT_LIMITS)  # the unknown key comes first
    assert sum(len(d.msg) + len(d.path) for d in err.details) < 1000


def test_default_bounds_leave_room_for_real_queries() -> None:
    body = {"filter": [[cond(f"f{j}", "in", [str(k) for k in range(1000)]) for j in range(10)]
                       for _ in range(100)],
            "orderBy": [{"field": f"f{j}"} for j in range(20)],
            "fields": ",".join(f"f{j}" for j in range(500))}
    q = parse_body(body, max_page_size=MAX)
    assert len(q.filter) == 100 and len(q.order_by) == 20 and q.fields is not None


def test_nesting_depth_and_show() -> None:
    assert nesting_depth("x", 5) == 0
    assert nesting_depth([{"a": [1]}], 5) == 3
    assert nesting_depth([[[[[[[[]]]]]]]], 3) == 4  # stops looking once past the limit
    assert show("x" * 200, 10) == "x" * 9 + "…"
    assert show(["=="]) == '["=="]'
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    assert show(deep) == "list"


@pytest.mark.parametrize(("page_no", "page_size"), [(10**18, 1000), (2**31, 2), (10**30, 1)])
def test_a_page_no_backend_could_reach_is_invalid_page(page_no: int, page_size: int) -> None:
    for raw, get in (({"pageNo": page_no, "pageSize": page_size}, False),
                     ({"pageNo": str(page_no), "pageSize": str(page_size)}, True)):
        if get and page_no >= 10**18:
            continue  # the GET form already refuses numbers of 19 digits and more
        err = refused(InvalidPage, raw, DEFAULT_LIMITS, get=get)
        assert first(err) == ("pageNo", "page_too_far", 2**31 - 1)


def test_the_last_reachable_page_is_accepted() -> None:
    q = parse_body({"pageNo": 2**31 // 1000 + 1, "pageSize": 1000}, max_page_size=MAX)
    assert q.offset <= 2**31 - 1
