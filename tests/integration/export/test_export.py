"""Export on the three emulators over loopback HTTP: the same records, in the same order, as
walking the query endpoint's pages of 1000; CSV parsed back; the control line; resuming with
``after=``; failures before and after the first byte; scopes; budgets."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.testing.harness import Harness
from tests.integration.export.conftest import (
    AUTH,
    EVERY_BACKEND,
    ORG,
    export,
    fail_after,
    finished_filter,
    read_csv,
    read_ndjson,
    walked,
)

RECORDGATE_HARNESSES = EVERY_BACKEND


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _residual(gw: TestClient[Any, Any], h: Harness, body: dict[str, Any]) -> Any:
    resp = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}/query",
                         params={"orgId": ORG, "explain": "true"}, json=body, headers=AUTH)
    return (await resp.json())["data"]["residual"]


async def test_ndjson_is_the_query_walk_with_the_gateway_finishing_the_filter(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    body = {"filter": finished_filter(harness)}
    assert await _residual(gw, harness, body), "the backend must not push this filter whole"
    expected = await walked(gw, harness, body)
    assert len(expected) > 40  # several backend calls' worth
    got = await export(gw, harness, **body)
    assert got.status == 200
    assert got.headers["Content-Type"].startswith("application/x-ndjson")
    records, control = read_ndjson(got.body)
    assert records == expected
    assert control == {"complete": True, "count": len(expected)}


async def test_csv_is_the_query_walk(harness: Harness, gw: TestClient[Any, Any]) -> None:
    r = harness.roles
    body = {"filter": finished_filter(harness), "fields": f"{r.text},{r.category}"}
    expected = await walked(gw, harness, body)
    got = await export(gw, harness, format="csv", **body)
    assert got.status == 200
    assert got.headers["Content-Type"].startswith("text/csv")
    rows = read_csv(got.body)
    assert rows[0] == ["id", r.text, r.category]
    assert rows[1:] == [[_cell(e["id"]), _cell(e[r.text]), _cell(e[r.category])]
                        for e in expected]


async def test_after_resumes_with_the_tail(harness: Harness, gw: TestClient[Any, Any]) -> None:
    body = {"filter": finished_filter(harness), "fields": harness.roles.text}
    expected = await walked(gw, harness, body)
    cut = len(expected) // 3
    got = await export(gw, harness, after=expected[cut]["id"], **body)
    records, control = read_ndjson(got.body)
    assert records == expected[cut + 1:]
    assert control == {"complete": True, "count": len(expected) - cut - 1}


async def test_id_descending_and_its_resume(harness: Harness, gw: TestClient[Any, Any]) -> None:
    order = [{"field": "id", "order": "DESC"}]
    body = {"filter": finished_filter(harness), "orderBy": order}
    expected = await walked(gw, harness, body)
    records, control = read_ndjson((await export(gw, harness, **body)).body)
    assert records == expected and control["complete"]
    cut = len(expected) // 2
    tail, _ = read_ndjson((await export(gw, harness, after=expected[cut]["id"], **body)).body)
    assert tail == expected[cut + 1:]


async def test_an_order_the_backend_keeps_itself_or_a_clear_422(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    body = {"orderBy": [{"field": harness.roles.category, "order": "DESC"},
                        {"field": harness.roles.text}]}
    got = await export(gw, harness, **body)
    if harness.type == "slingr":  # sorts by one key: the gateway would have to hold them all
        assert got.status == 422 and got.json()["error"] == "unsupported"
        return
    records, control = read_ndjson(got.body)
    assert records == await walked(gw, harness, body)
    assert control["complete"]
    after = await export(gw, harness, after=records[0]["id"], **body)
    assert after.status == 400 and after.json()["details"][0]["path"] == "after"


async def test_a_backend_failing_mid_stream_ends_with_an_incomplete_control_line(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    expected = await walked(gw, harness, {})
    fail_after(harness.emulator, 2, harness.roles.entity)
    got = await export(gw, harness)
    assert got.status == 200
    records, control = read_ndjson(got.body)
    assert control["complete"] is False
    assert control["count"] == len(records) == 2 * 40
    assert records == expected[:len(records)]
    assert control["error"]["code"] == 502 and control["error"]["error"] == "backend_error"
    assert control["error"]["requestId"] == got.headers["X-Request-Id"]


async def test_a_csv_failing_mid_stream_is_cut_short(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    fail_after(harness.emulator, 1, harness.roles.entity)
    resp = await gw.get(f"/v1/records/{harness.type}/{harness.roles.entity}/export",
                        params={"orgId": ORG, "format": "csv", "fields": harness.roles.text},
                        headers=AUTH)
    assert resp.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()


async def test_errors_before_the_first_byte_are_envelopes(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    e = harness.roles.entity
    cases: list[tuple[dict[str, Any], int, str, str | None]] = [
        ({"format": "xml"}, 400, "invalid_request", "format"),
        ({"pageSize": "10"}, 400, "invalid_request", "pageSize"),
        ({"filter": [[{"field": "id", "operator": "like", "value": "x"}]]}, 400,
         "invalid_filter", "filter[0][0].operator"),
        ({"after": "../x"}, 400, "invalid_request", "after"),
    ]
    for params, status, error, path in cases:
        got = await export(gw, harness, **params)
        assert (got.status, got.json()["error"]) == (status, error), (params, got.body)
        assert got.headers["Content-Type"].startswith("application/json")
        if path is not None:
            assert got.json()["details"][0]["path"] == path
    resp = await gw.get(f"/v1/records/{harness.type}/nosuchentity/export",
                        params={"orgId": ORG}, headers=AUTH)
    assert resp.status == 404
    assert (await gw.get(f"/v1/records/{harness.type}/{e}/export",
                         params={"orgId": ORG})).status == 401
    harness.emulator.faults.fail(500, times=10, path=None)
    got = await export(gw, harness)
    assert got.status == 502 and got.json()["error"] == "backend_error"


async def test_scopes_apply(harness: Harness, make_gateway: Any) -> None:
    e = harness.roles.entity
    consumers = [
        {"name": "writer", "apiKey": "write-key", "orgs": [ORG],
         "scopes": {"operations": ["write"]}},
        {"name": "other", "apiKey": "other-key", "orgs": [ORG],
         "scopes": {"entities": [f"{harness.type}/none"]}},
        {"name": "reader", "apiKey": "read-key", "orgs": [ORG], "scopes": {"operations": ["read"]}},
    ]
    gw = await make_gateway({harness.type: harness.source(per_call=200)}, consumers=consumers)
    for key, status in (("write-key", 403), ("other-key", 403), ("read-key", 200)):
        got = await export(gw, harness, headers={"Authorization": f"Bearer {key}"})
        assert got.status == status, (key, got.body[:300])
        if status == 403:
            assert got.json()["error"] == "forbidden"
    del e


async def test_a_budget_cuts_the_export_with_an_incomplete_control_line(
    harness: Harness, make_gateway: Any
) -> None:
    consumers = [{"name": "tester", "apiKey": "test-key", "orgs": [ORG],
                  "budgets": {"recordsPerRequest": 100}}]
    gw = await make_gateway({harness.type: harness.source(per_call=40)}, consumers=consumers)
    got = await export(gw, harness)
    records, control = read_ndjson(got.body)
    assert control["complete"] is False and control["count"] == len(records) == 80
    assert control["error"]["error"] == "payload_too_large"
    again = await export(gw, harness, after=records[-1]["id"])
    if harness.type == "sugarcrm":  # a keyset walk seeks: the resume reads only the rest
        resumed, _ = read_ndjson(again.body)
        assert resumed[0]["id"] != records[-1]["id"]
    else:  # an offset walk reads the head again to skip it: it counts against the budget
        assert again.status == 413 and again.json()["error"] == "payload_too_large"
