"""Parsing the POST body and GET parameters into a Query, with every problem reported by path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from query_fakes import ENTITY

from gateway.errors import GatewayError, InvalidFilter, InvalidOrder, InvalidPage, InvalidRequest
from gateway.i18n import CATALOGS
from gateway.query.model import Condition, Group, OrderKey, Query
from gateway.query.parse import parse_body, parse_params, split_list

MAX = 1000


def body(**kw: Any) -> Query:
    return parse_body(kw, max_page_size=MAX)


def problems(exc: pytest.ExceptionInfo[GatewayError]) -> list[tuple[str, str | None]]:
    return [(d.path, d.key) for d in exc.value.details]


def fails(cls: type[GatewayError], raw: Any, *, entity: Any = None, get: bool = False
          ) -> list[tuple[str, str | None]]:
    with pytest.raises(GatewayError) as exc:
        if get:
            parse_params(raw, max_page_size=MAX, entity=entity)
        else:
            parse_body(raw, max_page_size=MAX, entity=entity)
    assert type(exc.value) is cls
    assert exc.value.details, "an input error always says where"
    for d in exc.value.details:
        assert d.msg == CATALOGS["en-US"][d.key].format(**d.params)
    return problems(exc)


SEED_FILTER = [
    [{"field": "annual_revenue", "operator": ">=", "value": "1000"},
     {"field": "industry", "operator": "==", "value": "Energy"}],
    [{"field": "name", "operator": "startsWith", "value": "Ac"}],
]


def test_the_spec_example_parses_to_its_normalized_query() -> None:
    q = body(fields="name,industry", filter=SEED_FILTER,
             orderBy=[{"field": "name", "order": "ASC"},
                      {"field": "date_entered", "order": "DESC"}],
             pageSize=100, pageNo=1)
    assert q == Query(
        filter=(
            Group((Condition("annual_revenue", ">=", "1000"),
                   Condition("industry", "==", "Energy"))),
            Group((Condition("name", "startsWith", "Ac"),)),
        ),
        order_by=(OrderKey("name"), OrderKey("date_entered", descending=True)),
        fields=("name", "industry"),
        page_size=100,
        page_no=1,
    )


def test_filter_as_a_json_string_is_the_same_filter() -> None:
    assert body(filter=json.dumps(SEED_FILTER)).filter == body(filter=SEED_FILTER).filter


@pytest.mark.parametrize("empty", [None, "", "  ", [], "[]", "null"])
def test_absent_or_empty_filter_means_every_record(empty: Any) -> None:
    assert body(filter=empty).filter == ()


def test_defaults() -> None:
    assert parse_body({}, max_page_size=MAX) == Query((), (), None, 100, 1)
    assert parse_body({}, max_page_size=50).page_size == 50


def test_json_values_and_null_normalization() -> None:
    q = body(filter=[[{"field": "a", "operator": "==", "value": 5},
                      {"field": "b", "operator": "!=", "value": True},
                      {"field": "c", "operator": "==", "value": None},
                      {"field": "d", "operator": "!=", "value": None},
                      {"field": "e", "operator": "isNull"},
                      {"field": "f", "operator": "isNotNull", "value": None},
                      {"field": "g", "operator": "==", "value": ""}]])
    assert q.filter[0].conditions == (
        Condition("a", "==", 5), Condition("b", "!=", True), Condition("c", "isNull"),
        Condition("d", "isNotNull"), Condition("e", "isNull"), Condition("f", "isNotNull"),
        Condition("g", "==", ""),
    )


@pytest.mark.parametrize(("raw", "expected"), [
    ("a,b,c", ("a", "b", "c")),
    (r"Ac\, Inc,Globex", ("Ac, Inc", "Globex")),
    (r"back\\,slash", ("back\\", "slash")),
    (r"a\\\,b", ("a\\,b",)),
    (r"keep\n", ("keep\\n",)),
    ("single", ("single",)),
    ("a,", ("a", "")),
    ("", ("",)),
    (" a , b", (" a ", " b")),
])
def test_comma_lists_unescape_commas_and_backslashes(raw: str, expected: tuple[str, ...]) -> None:
    assert split_list(raw) == expected
    q = body(filter=[[{"field": "x", "operator": "in", "value": raw}]])
    assert q.filter[0].conditions[0].value == expected


def test_in_accepts_a_json_array() -> None:
    q = body(filter=[[{"field": "x", "operator": "notIn", "value": ["a,b", 3, False]}]])
    assert q.filter[0].conditions[0] == Condition("x", "notIn", ("a,b", 3, False))


@pytest.mark.parametrize(("flt", "path", "key"), [
    ({"a": 1}, "filter", "filter_not_list"),
    ("[[{]]", "filter", "bad_json"),
    ('"just a string"', "filter", "filter_not_list"),
    ([[]], "filter[0]", "empty_group"),
    ([{"field": "a"}], "filter[0]", "group_not_list"),
    ([["a == 1"]], "filter[0][0]", "condition_not_object"),
    ([[{"operator": "==", "value": "1"}]], "filter[0][0].field", "missing_field"),
    ([[{"field": "", "operator": "==", "value": "1"}]], "filter[0][0].field", "bad_field_name"),
    ([[{"field": 3, "operator": "==", "value": "1"}]], "filter[0][0].field", "bad_field_name"),
    ([[{"field": "a", "value": "1"}]], "filter[0][0].operator", "missing_operator"),
    ([[{"field": "a", "operator": "=~", "value": "1"}]], "filter[0][0].operator", "bad_operator"),
    ([[{"field": "a", "operator": "IN", "value": "1"}]], "filter[0][0].operator", "bad_operator"),
    ([[{"field": "a", "operator": 1, "value": "1"}]], "filter[0][0].operator", "bad_operator"),
    ([[{"field": "a", "operator": "=="}]], "filter[0][0].value", "missing_value"),
    ([[{"field": "a", "operator": ">", "value": None}]], "filter[0][0].value", "null_value"),
    ([[{"field": "a", "operator": "contains", "value": None}]], "filter[0][0].value",
     "null_value"),
    ([[{"field": "a", "operator": "isNull", "value": "x"}]], "filter[0][0].value",
     "unexpected_value"),
    ([[{"field": "a", "operator": "==", "value": {"x": 1}}]], "filter[0][0].value", "bad_value"),
    ([[{"field": "a", "operator": "==", "value": [1]}]], "filter[0][0].value", "bad_value"),
    ([[{"field": "a", "operator": "in", "value": 5}]], "filter[0][0].value", "bad_list_value"),
    ([[{"field": "a", "operator": "in", "value": []}]], "filter[0][0].value", "empty_list"),
    ([[{"field": "a", "operator": "in", "value": ["x", None]}]], "filter[0][0].value[1]",
     "bad_list_item"),
    ([[{"field": "a", "operator": "in", "value": [["x"]]}]], "filter[0][0].value[0]",
     "bad_list_item"),
    ([[{"field": "a", "operator": "==", "value": "1", "op": "x"}]], "filter[0][0].op",
     "unknown_key"),
])
def test_every_filter_error_names_its_path(flt: Any, path: str, key: str) -> None:
    assert fails(InvalidFilter, {"filter": flt}) == [(path, key)]
    as_text = flt if isinstance(flt, str) else json.dumps(flt)
    assert fails(InvalidFilter, {"filter": as_text}, get=True) == [(path, key)]


def test_all_problems_are_reported_and_the_first_picks_the_error() -> None:
    raw = {
        "filter": [[{"field": "a", "operator": "~"}], [],
                   [{"field": "b", "operator": ">", "value": None}]],
        "orderBy": [{"field": "a", "order": "UP"}],
        "pageSize": 0,
        "pageNo": -1,
    }
    got = fails(InvalidFilter, raw)
    assert got == [
        ("filter[0][0].operator", "bad_operator"), ("filter[1]", "empty_group"),
        ("filter[2][0].value", "null_value"), ("orderBy[0].order", "bad_order"),
        ("pageSize", "page_size_range"), ("pageNo", "page_no_range"),
    ]
    with pytest.raises(InvalidFilter) as exc:
        parse_body(raw, max_page_size=MAX)
    assert "filter[0][0].operator" in exc.value.msg and exc.value.params["count"] == 6


@pytest.mark.parametrize("raw", [[], "query", 3, None])
def test_a_body_that_is_not_an_object_is_an_invalid_request(raw: Any) -> None:
    assert fails(InvalidRequest, raw) == [("body", "body_not_object")]


def test_unknown_top_level_keys_are_named() -> None:
    assert fails(InvalidRequest, {"filters": [], "page": 2}) == [
        ("filters", "unknown_key"), ("page", "unknown_key")]


def test_order_by_forms() -> None:
    want = (OrderKey("a", descending=True), OrderKey("b"), OrderKey("c"))
    raw = [{"field": "a", "order": "desc"}, {"field": "b", "order": "Asc"},
           {"field": "c", "order": None}]
    assert body(orderBy=raw).order_by == want
    assert body(orderBy=json.dumps(raw)).order_by == want
    assert body(orderBy="").order_by == ()
    assert parse_params({"orderBy": "null"}, max_page_size=MAX).order_by == ()
    assert parse_params({"orderBy": json.dumps(raw)}, max_page_size=MAX).order_by == want


@pytest.mark.parametrize(("order", "path", "key"), [
    ({"field": "a"}, "orderBy", "order_not_list"),
    ("[{", "orderBy", "bad_json"),
    (["a"], "orderBy[0]", "order_item_not_object"),
    ([{"order": "ASC"}], "orderBy[0].field", "missing_field"),
    ([{"field": ""}], "orderBy[0].field", "bad_field_name"),
    ([{"field": "a", "order": "up"}], "orderBy[0].order", "bad_order"),
    ([{"field": "a", "order": 1}], "orderBy[0].order", "bad_order"),
    ([{"field": "a", "dir": "ASC"}], "orderBy[0].dir", "unknown_key"),
    ([{"field": "a"}, {"field": "b"}, {"field": "a", "order": "DESC"}], "orderBy[2].field",
     "duplicate_order_field"),
])
def test_every_order_error_names_its_path(order: Any, path: str, key: str) -> None:
    assert fails(InvalidOrder, {"orderBy": order}) == [(path, key)]


def test_fields_forms() -> None:
    assert body(fields="name, industry,name").fields == ("name", "industry")
    assert body(fields=["name", "id"]).fields == ("name", "id")
    assert body(fields="").fields is None
    assert body(fields=[]).fields is None
    assert fails(InvalidRequest, {"fields": "a,,b"}) == [("fields[1]", "bad_field_name")]
    assert fails(InvalidRequest, {"fields": ["a", " "]}) == [("fields[1]", "bad_field_name")]
    assert fails(InvalidRequest, {"fields": ["a", 1]}) == [("fields[1]", "bad_field_name")]
    assert fails(InvalidRequest, {"fields": {"a": 1}}) == [("fields", "fields_not_list")]


@pytest.mark.parametrize(("raw", "path", "key"), [
    ({"pageSize": 0}, "pageSize", "page_size_range"),
    ({"pageSize": MAX + 1}, "pageSize", "page_size_range"),
    ({"pageSize": "10"}, "pageSize", "not_integer"),
    ({"pageSize": 10.0}, "pageSize", "not_integer"),
    ({"pageSize": True}, "pageSize", "not_integer"),
    ({"pageNo": 0}, "pageNo", "page_no_range"),
    ({"pageNo": "2"}, "pageNo", "not_integer"),
])
def test_body_page_errors(raw: dict[str, Any], path: str, key: str) -> None:
    assert fails(InvalidPage, raw) == [(path, key)]


def test_page_bounds_are_inclusive() -> None:
    assert body(pageSize=1, pageNo=1).page_size == 1
    q = body(pageSize=MAX, pageNo=7)
    assert (q.page_size, q.page_no, q.offset) == (MAX, 7, 6 * MAX)


def test_get_form_takes_numbers_as_text_and_ignores_other_parameters() -> None:
    q = parse_params(
        {"orgId": "acme", "locale": "ja-JP", "pageSize": " 25 ", "pageNo": "3",
         "fields": "name,industry", "filter": json.dumps(SEED_FILTER)},
        max_page_size=MAX,
    )
    assert (q.page_size, q.page_no, q.fields) == (25, 3, ("name", "industry"))
    assert q.filter == body(filter=SEED_FILTER).filter
    assert parse_params({"pageSize": "", "pageNo": ""}, max_page_size=MAX) == Query()


@pytest.mark.parametrize(("raw", "path", "key"), [
    ({"pageSize": "ten"}, "pageSize", "not_integer"),
    ({"pageSize": "1.5"}, "pageSize", "not_integer"),
    ({"pageSize": "--3"}, "pageSize", "not_integer"),
    ({"pageSize": "-3"}, "pageSize", "page_size_range"),
    ({"pageNo": "0"}, "pageNo", "page_no_range"),
    ({"pageNo": "9" * 40}, "pageNo", "not_integer"),
])
def test_get_page_errors(raw: dict[str, str], path: str, key: str) -> None:
    assert fails(InvalidPage, raw, get=True) == [(path, key)]


# -- against an entity's fields -------------------------------------------------------------

def cond(field: str, op: str, value: Any = "x") -> dict[str, Any]:
    return {"filter": [[{"field": field, "operator": op, "value": value}]]}


def test_known_fields_and_coercible_values_pass() -> None:
    ok = [cond("rev", ">=", "1000"), cond("rev", "==", 5), cond("score", "<", "-1.5e2"),
          cond("active", "==", "true"), cond("active", "!=", 0), cond("born", "==", "2020-01-31"),
          cond("seen", ">", "2024-03-01"), cond("seen", "<=", "2024-03-01T10:00:00+02:00"),
          cond("seen", "==", "2024-03-01 10:00"), cond("rev", "in", "1,2,3"),
          cond("rev", "contains", "abc"), cond("id", "==", "r001"), cond("tags", "==", "red"),
          {"orderBy": [{"field": "id"}, {"field": "rev", "order": "DESC"}]},
          {"fields": "id,name,notes"}]
    for raw in ok:
        parse_body(raw, max_page_size=MAX, entity=ENTITY)


@pytest.mark.parametrize(("raw", "cls", "path", "key"), [
    (cond("nope", "=="), InvalidFilter, "filter[0][0].field", "unknown_field"),
    (cond("notes", "=="), InvalidFilter, "filter[0][0].field", "field_not_filterable"),
    (cond("rev", "==", "abc"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("rev", ">", "1.5"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("rev", ">", True), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("score", ">", "1,5"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("active", "==", "yes"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("born", "==", "2020-02-30"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("born", "==", "31/01/2020"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("seen", ">", "yesterday"), InvalidFilter, "filter[0][0].value", "bad_value_type"),
    (cond("rev", "in", "1,x,3"), InvalidFilter, "filter[0][0].value[1]", "bad_value_type"),
    ({"orderBy": [{"field": "nope"}]}, InvalidOrder, "orderBy[0].field", "unknown_field"),
    ({"orderBy": [{"field": "tags"}]}, InvalidOrder, "orderBy[0].field", "field_not_sortable"),
    ({"fields": "name,nope"}, InvalidRequest, "fields[1]", "unknown_field"),
])
def test_entity_checks(raw: dict[str, Any], cls: type[GatewayError], path: str, key: str) -> None:
    assert fails(cls, raw, entity=ENTITY) == [(path, key)]


def test_unknown_field_message_names_field_and_entity() -> None:
    with pytest.raises(InvalidFilter) as exc:
        parse_body(cond("nope", "=="), max_page_size=MAX, entity=ENTITY)
    detail = exc.value.details[0]
    assert detail.msg == "Unknown field 'nope' in things"
    assert detail.params == {"field": "nope", "entity": "things"}
