"""Kit: query answers are exact (set, order and totalSize as the oracle) on every source."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.testing.client import AUTH, ORG, oracle, query, walk
from gateway.testing.harness import emulator

__all__ = [
    "test_concurrent_requests_on_an_expired_token_cost_one_token_call",
    "test_date_only_value_on_a_datetime_field_means_that_utc_day",
    "test_equality_follows_the_backend_case_rule",
    "test_every_operator_is_exact",
    "test_fields_are_projected_and_id_always_present",
    "test_filter_as_a_json_string_and_get_form_agree",
    "test_multi_key_order_with_nulls_and_ties",
    "test_or_of_and_groups_across_fields",
    "test_page_past_the_end_is_empty_with_the_total",
    "test_pages_larger_than_the_backend_cap_are_filled",
    "test_paging_walk_has_no_duplicates_or_gaps",
    "test_token_expiry_in_the_middle_of_a_walk",
    "test_walk_ordered_by_a_text_field_with_empty_and_null_values",
]

OPERATORS = ["==", "!=", ">", ">=", "<", "<=", "in", "notIn",
             "contains", "startsWith", "endsWith", "isNull", "isNotNull"]


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


def sample_value(h: Any, field: str, op: str) -> Any:
    """A value taken from the data, so the result is neither every record nor none."""
    values = sorted({str(r[field]) for r in h.records() if r.get(field) not in (None, "")})
    mid = values[len(values) // 2]
    if op in ("in", "notIn"):
        return values[: max(2, len(values) // 3)]
    if op in ("contains", "endsWith"):
        return mid[-3:] if op == "endsWith" else mid[1:4]
    if op == "startsWith":
        return mid[:2].swapcase()  # backends' case rules: case-insensitive
    return mid


@pytest.mark.parametrize("op", OPERATORS)
@pytest.mark.parametrize("role", ["text", "category"])
async def test_every_operator_is_exact(harness: Any, gw: Any, op: str, role: str) -> None:
    field = getattr(harness.roles, role)
    cond: dict[str, Any] = {"field": field, "operator": op}
    if op not in ("isNull", "isNotNull"):
        cond["value"] = sample_value(harness, field, op)
    want = oracle(harness, [[cond]])
    got = await query(gw, harness, {"filter": [[cond]], "pageSize": 1000})
    assert got["pagination"]["totalSize"] == len(want)
    assert ids(got["data"]) == ids(want)[:1000]


@pytest.mark.parametrize("op", ["==", "!=", "in"])
@pytest.mark.parametrize("role", ["text", "category"])
async def test_equality_follows_the_backend_case_rule(
    harness: Any, gw: Any, op: str, role: str
) -> None:
    """A stored value with its letters' case swapped: every record on a case-insensitive
    backend, none on a case-sensitive one, exactly as the oracle says."""
    field = getattr(harness.roles, role)
    values = sorted({str(r[field]) for r in harness.records()
                     if r.get(field) and str(r[field]).swapcase() != str(r[field])})
    swapped = values[len(values) // 2].swapcase()
    cond = {"field": field, "operator": op, "value": [swapped] if op == "in" else swapped}
    want = oracle(harness, [[cond]])
    got = await query(gw, harness, {"filter": [[cond]], "pageSize": 1000})
    assert (got["pagination"]["totalSize"], ids(got["data"])) == (len(want), ids(want)[:1000])


@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "=="])
async def test_date_only_value_on_a_datetime_field_means_that_utc_day(
    harness: Any, gw: Any, op: str
) -> None:
    field = harness.roles.datetime
    if field is None:
        pytest.skip("no datetime field in this harness")
    days = sorted({str(r[field])[:10] for r in harness.records() if r.get(field)})
    cond = {"field": field, "operator": op, "value": days[len(days) // 2]}
    want = oracle(harness, [[cond]])
    got = await query(gw, harness, {"filter": [[cond]], "pageSize": 1000})
    assert (got["pagination"]["totalSize"], ids(got["data"])) == (len(want), ids(want)[:1000])


async def test_or_of_and_groups_across_fields(harness: Any, gw: Any) -> None:
    r = harness.roles
    flt = [
        [{"field": r.category, "operator": "==", "value": sample_value(harness, r.category, "==")},
         {"field": r.text, "operator": "startsWith", "value": "a"}],
        [{"field": r.category, "operator": "isNull"}],
        [{"field": r.text, "operator": "contains", "value": "%"}],  # not pushable on Sugar
    ]
    want = oracle(harness, flt)
    assert want, "the data set should have matches for this filter"
    got = await query(gw, harness, {"filter": flt, "pageSize": 1000})
    assert (got["pagination"]["totalSize"], ids(got["data"])) == (len(want), ids(want))


async def test_filter_as_a_json_string_and_get_form_agree(harness: Any, gw: Any) -> None:
    import json

    r = harness.roles
    two = sample_value(harness, r.category, "in")[:2]
    flt = [[{"field": r.category, "operator": "in", "value": ",".join(two)}]]
    order = [{"field": r.text, "order": "DESC"}]
    body = await query(gw, harness, {"filter": json.dumps(flt), "orderBy": order, "pageSize": 9})
    resp = await gw.get(f"/v1/records/{harness.type}/{r.entity}", headers=AUTH, params={
        "orgId": ORG, "filter": json.dumps(flt), "orderBy": json.dumps(order), "pageSize": "9"})
    assert resp.status == 200
    assert (await resp.json())["data"] == body["data"]
    want = oracle(harness, [[{"field": r.category, "operator": "in", "value": two}]], order)
    assert ids(body["data"]) == ids(want)[:9]


async def test_multi_key_order_with_nulls_and_ties(harness: Any, gw: Any) -> None:
    r = harness.roles
    order = [{"field": r.category, "order": "DESC"}, {"field": r.text}]
    want = oracle(harness, None, order)
    got, total = await walk(gw, harness, {"orderBy": order}, page_size=97)
    assert total == len(want)
    assert ids(got) == ids(want)


@pytest.mark.parametrize("page_size", [1, 7, 100])
async def test_paging_walk_has_no_duplicates_or_gaps(
    harness: Any, gw: Any, page_size: int
) -> None:
    r = harness.roles
    flt = [[{"field": r.text, "operator": "startsWith", "value": "b" if page_size > 1 else "bl"}]]
    want = oracle(harness, flt)
    got, total = await walk(gw, harness, {"filter": flt}, page_size)
    assert total == len(want)
    assert ids(got) == ids(want)
    assert len(set(ids(got))) == len(got)


async def test_page_past_the_end_is_empty_with_the_total(harness: Any, gw: Any) -> None:
    got = await query(gw, harness, {"pageSize": 50, "pageNo": 10_000})
    assert got["data"] == []
    assert got["pagination"] == {"pageNo": 10_000, "pageSize": 50,
                                 "totalSize": len(harness.records())}


async def test_pages_larger_than_the_backend_cap_are_filled(
    harness: Any, gateway_for: Any
) -> None:
    gw = await gateway_for(harness, per_call=7)
    got = await query(gw, harness, {"pageSize": 50, "pageNo": 2})
    want = oracle(harness)
    assert ids(got["data"]) == ids(want)[50:100]
    sizes = harness.list_call_sizes()
    assert sizes and max(sizes) <= 7


async def test_fields_are_projected_and_id_always_present(harness: Any, gw: Any) -> None:
    r = harness.roles
    got = await query(gw, harness, {"fields": r.text, "pageSize": 5,
                                    "filter": [[{"field": r.category, "operator": "isNotNull"}]],
                                    "orderBy": [{"field": r.category}]})
    assert got["data"] and all(set(rec) == {"id", r.text} for rec in got["data"])


async def test_token_expiry_in_the_middle_of_a_walk(harness: Any, gw: Any) -> None:
    want = oracle(harness)
    first = await query(gw, harness, {"pageSize": 60, "pageNo": 1})
    emulator(harness).expire_tokens()
    rest, _ = await walk(gw, harness, {}, page_size=60)
    assert ids(first["data"]) == ids(want)[:60]
    assert ids(rest) == ids(want)


async def test_concurrent_requests_on_an_expired_token_cost_one_token_call(
    harness: Any, make_gateway: Any
) -> None:
    import asyncio

    # 20 pages at once; a backend that cannot sort makes each a scan, which this test is not
    # about: the consumer may run them all at once.
    gw = await make_gateway({harness.type: harness.source()}, consumers=[
        {"name": "tester", "apiKey": "test-key", "orgs": ["acme"],
         "budgets": {"concurrentScans": 20}}])
    await query(gw, harness, {"pageSize": 1})
    before = harness.token_calls()
    emulator(harness).expire_tokens()
    answers = await asyncio.gather(*(query(gw, harness, {"pageSize": 3, "pageNo": n})
                                     for n in range(1, 21)))
    assert all(len(a["data"]) == 3 for a in answers)
    assert harness.token_calls() - before == 1


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_walk_ordered_by_a_text_field_with_empty_and_null_values(
    harness: Any, gateway_for: Any, direction: str
) -> None:
    gw = await gateway_for(harness, per_call=10)
    order = [{"field": harness.roles.text, "order": direction}]
    got, total = await walk(gw, harness, {"orderBy": order}, page_size=20)
    want = oracle(harness, None, order)
    assert total == len(want)
    assert ids(got) == ids(want)
