"""Data Service emulator: query filter groups, every operator, sort and projection."""

from __future__ import annotations

import pytest

from tests.fidelity.dataservice.conftest import flt

Q = "/EntityService/Athletes/query"


async def _names(api, filters=None, groups=None, logic=0, **extra):
    body = {"filterGroup": {"logicalOperator": logic, "queryFilters": filters or [],
                            "filterGroups": groups or []}, "limit": 1000, **extra}
    status, out = await api("POST", Q, json=body)
    assert status == 200, out
    return out


def _ids(rows):
    return {r["Id"] for r in rows}


@pytest.fixture
def rows(ds):
    return ds.store.all("Athletes")


@pytest.mark.parametrize(("op", "value", "check"), [
    ("=", "30", lambda v: v == 30),
    ("!=", "30", lambda v: v is not None and v != 30),
    (">", "30", lambda v: v is not None and v > 30),
    ("<", "30", lambda v: v is not None and v < 30),
    (">=", "30", lambda v: v is not None and v >= 30),
    ("<=", "30", lambda v: v is not None and v <= 30),
    ("contains", "3", lambda v: v is not None and "3" in str(v)),
    ("not contains", "3", lambda v: v is not None and "3" not in str(v)),
])
async def test_numeric_operators_with_sql_null_semantics(api, rows, op, value, check):
    out = await _names(api, [flt("Age", op, value)])
    assert _ids(out["value"]) == {r["Id"] for r in rows if check(r["Age"])}
    assert out["totalRecordCount"] == len(out["value"])


@pytest.mark.parametrize(("op", "value", "check"), [
    ("=", "usa", lambda v: v == "USA"),  # case-insensitive collation
    ("!=", "USA", lambda v: v is not None and v != "USA"),
    ("contains", "s", lambda v: v is not None and "s" in v.lower()),
    ("not contains", "s", lambda v: v is not None and "s" not in v.lower()),
    ("startswith", "g", lambda v: v is not None and v.lower().startswith("g")),
    ("endswith", "A", lambda v: v is not None and v.lower().endswith("a")),
    ("<", "F", lambda v: v is not None and v.lower() < "f"),
])
async def test_text_operators_case_insensitive(api, rows, op, value, check):
    out = await _names(api, [flt("Country", op, value)])
    assert _ids(out["value"]) == {r["Id"] for r in rows if check(r["Country"])}


async def test_in_and_not_in_take_value_list(api, rows):
    out = await _names(api, [flt("Country", "in", value_list=["usa", "FRA"])])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Country"] in ("USA", "FRA")}
    out = await _names(api, [flt("Age", "not in", value_list=["20", "30"])])
    assert _ids(out["value"]) == {r["Id"] for r in rows
                                  if r["Age"] is not None and r["Age"] not in (20, 30)}


async def test_null_checks_via_empty_value(api, rows):
    for value in (None, ""):
        out = await _names(api, [{"fieldName": "Country", "operator": "=", "value": value}])
        assert _ids(out["value"]) == {r["Id"] for r in rows if r["Country"] is None}
        out = await _names(api, [{"fieldName": "Country", "operator": "!=", "value": value}])
        assert _ids(out["value"]) == {r["Id"] for r in rows if r["Country"] is not None}


async def test_boolean_date_datetime_choice_and_relationship(api, rows):
    out = await _names(api, [flt("Active", "=", "true")])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Active"] is True}
    out = await _names(api, [flt("Born", ">=", "1990-01-01")])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Born"] >= "1990-01-01"}
    out = await _names(api, [flt("LastSeen", "<", "2022-01-01T00:00:00Z")])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["LastSeen"] < "2022-01-01"}
    out = await _names(api, [flt("Sport", "in", value_list=["1", "2"])])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Sport"] in (1, 2)}
    out = await _names(api, [flt("Medals", "contains", "0")])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Medals"] and 0 in r["Medals"]}
    out = await _names(api, [flt("Medals", "=", "[2,0]")])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Medals"] == [0, 2]}
    game = next(r["Games"] for r in rows if r["Games"])
    out = await _names(api, [flt("Games", "=", game.upper())], expansionLevel=0)
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Games"] == game}


async def test_nested_groups_and_or(api, rows):
    groups = [{"logicalOperator": 0, "queryFilters": [flt("Country", "=", "USA"),
                                                      flt("Age", ">", "30")]},
              {"logicalOperator": "AND", "queryFilters": [flt("Country", "=", "KEN")]}]
    out = await _names(api, [flt("Active", "=", "false")], groups, logic=1)
    want = {r["Id"] for r in rows if r["Active"] is False
            or (r["Country"] == "USA" and r["Age"] is not None and r["Age"] > 30)
            or r["Country"] == "KEN"}
    assert _ids(out["value"]) == want
    out = await _names(api, [flt("Active", "=", "true")],
                       [{"logicalOperator": "or", "queryFilters": [flt("Sport", "=", "0"),
                                                                    flt("Sport", "=", "1")]}])
    assert _ids(out["value"]) == {r["Id"] for r in rows if r["Active"] and r["Sport"] in (0, 1)}


async def test_multi_key_sort_nulls_first_and_paging(api, rows):
    body = {"sortOptions": [{"fieldName": "Country"}, {"fieldName": "Age", "isDescending": True}],
            "limit": 1000}
    _, out = await api("POST", Q, json=body)
    got = [(r["Country"], r["Age"]) for r in out["value"]]
    assert got[0][0] is None  # NULLs first ascending
    countries = [c or "" for c, _ in got]
    assert countries == sorted(countries)
    for country in {c for c, _ in got}:
        ages = [a for c, a in got if c == country]
        non_null = sorted((a for a in ages if a is not None), reverse=True)
        assert ages == non_null + [None] * ages.count(None)  # NULLs last descending
    pages = []
    for start in range(0, 60, 25):
        _, page = await api("POST", Q, json={**body, "start": start, "limit": 25})
        assert page["totalRecordCount"] == 60
        pages += [r["Id"] for r in page["value"]]
    assert pages == [r["Id"] for r in out["value"]]


async def test_selected_fields_keep_id(api):
    _, out = await api("POST", Q, json={"selectedFields": ["Name", "Age"], "limit": 2})
    assert [set(r) for r in out["value"]] == [{"Id", "Name", "Age"}] * 2


@pytest.mark.parametrize("bad", [
    {"filterGroup": {"queryFilters": [flt("Age", "==", "3")]}},
    {"filterGroup": {"queryFilters": [flt("Age", "like", "3")]}},
    {"filterGroup": {"queryFilters": [flt("Nope", "=", "3")]}},
    {"filterGroup": {"queryFilters": [flt("Age", "in", "3")]}},
    {"filterGroup": {"queryFilters": [flt("Age", "in", "3", ["3"])]}},
    {"filterGroup": {"queryFilters": [flt("Age", "=", value_list=["3"])]}},
    {"filterGroup": {"queryFilters": [{"fieldName": "Age", "operator": ">"}]}},
    {"filterGroup": {"queryFilters": [flt("Age", ">", "old")]}},
    {"filterGroup": {"queryFilters": [flt("Medals", "=", "1")]}},
    {"filterGroup": {"queryFilters": [flt("Medals", "contains", "[1]")]}},
    {"filterGroup": {"queryFilters": [flt("Active", ">", "true")]}},
    {"filterGroup": {"logicalOperator": 7}},
    {"sortOptions": [{"fieldName": "nope"}]},
    {"selectedFields": ["nope"]},
    {"start": -1},
])
async def test_bad_queries_are_400_error_bodies(api, bad):
    status, body = await api("POST", Q, json=bad)
    assert status == 400 and isinstance(body["error"], str) and body["traceId"]


async def test_non_string_value_does_not_bind(api):
    status, body = await api("POST", Q, json={"filterGroup": {"queryFilters": [
        {"fieldName": "Age", "operator": "=", "value": 30}]}})
    assert status == 400 and body["title"] == "One or more validation errors occurred."


async def test_query_limit_cap_and_defaults(api, ds):
    ds.max_limit = 10
    _, out = await api("POST", Q, json={"limit": 1000})
    assert len(out["value"]) == 10 and out["totalRecordCount"] == 60
    ds.max_limit = 1000
    _, out = await api("POST", Q, json={})
    assert len(out["value"]) == 60
