"""Budgets (issue 16, repros 2 and 6) on every emulator over loopback, with small budgets.

- A bulk whose query entries' pages alone cross ``recordsPerRequest`` is refused (413) before
  any backend call; one within it streams every entry; one whose answer crosses
  ``responseBytesPerRequest`` stops there, the entries after it answering 413 unrun.
- A bulk costs the consumer one rate-limit token per entry, and its entries count against
  ``bulkEntriesPerMinute``; scans are charged each backend call against
  ``backendCallsPerSecond``, before the walk when its size is known.
- A scan that would read more than ``recordsPerRequest`` is refused after its count, before the
  walk; a consumer running ``concurrentScans`` scans gets 429 for one more while another
  consumer's cheap query still answers; a bulk's own scans wait for a slot instead.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.budgets import SCANS
from tests.contract.backends import Harness
from tests.integration.reliability.conftest import AUTH, ORG

OTHER_KEY = "other-key"
OTHER = {"Authorization": f"Bearer {OTHER_KEY}"}
PER_CALL = 50  # records per backend call, so a scan of the ~250 seeded records makes 5+ calls
# A filter each backend cannot do exactly (a literal % on Sugar and the Data Service, a double
# quote at the end of a Slingr like()), so the gateway walks every record: a scan.
SCAN_VALUE = {"sugarcrm": "%", "dataservice": "%", "slingr": '"'}


def scan_body(h: Harness, page_size: int = 5) -> dict[str, Any]:
    value = SCAN_VALUE[h.type]
    return {"filter": [[{"field": h.roles.text, "operator": "contains", "value": value}]],
            "pageSize": page_size}


def consumers(budgets: dict[str, Any] | None = None,
              rate: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    first: dict[str, Any] = {"name": "tester", "apiKey": "test-key", "orgs": [ORG]}
    if budgets:
        first["budgets"] = budgets
    if rate:
        first["rateLimit"] = rate
    return [first, {"name": "other", "apiKey": OTHER_KEY, "orgs": [ORG]}]


async def gateway(make_gateway: Any, h: Harness, budgets: dict[str, Any] | None = None,
                  rate: dict[str, Any] | None = None,
                  server: dict[str, Any] | None = None) -> TestClient:
    return await make_gateway({h.type: h.source(per_call=PER_CALL)},
                              consumers=consumers(budgets, rate), server=server)


def query_entry(h: Harness, body: dict[str, Any]) -> dict[str, Any]:
    return {"url": f"/v1/records/{h.type}/{h.roles.entity}/query", "method": "POST",
            "data": body}


async def bulk(gw: TestClient, entries: list[dict[str, Any]],
               headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    resp = await gw.post("/v1/bulk", params={"orgId": ORG}, json={"requests": entries},
                         headers=headers or AUTH)
    return resp.status, await resp.json(), resp.headers


async def refusals(gw: TestClient, budget: str) -> float:
    text = await (await gw.get("/metrics")).text()
    line = f'gateway_budget_refusals_total{{budget="{budget}"}} '
    found = [ln for ln in text.splitlines() if ln.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def list_calls(h: Harness) -> int:
    return len(h.list_call_sizes())


async def test_bulk_of_many_full_pages_is_refused_before_any_backend_call(
    make_gateway: Any, harness: Harness
) -> None:
    # Repro 2, scaled down: 100 entries x pageSize 1000 is 100,000 records asked for.
    gw = await gateway(make_gateway, harness, {"recordsPerRequest": 5000})
    calls = len(harness.emulator.log)
    status, body, headers = await bulk(gw, [query_entry(harness, {"pageSize": 1000})] * 100)
    assert status == 413, body
    assert body["error"] == "payload_too_large" and "recordsPerRequest" in body["msg"]
    assert body["details"][0]["path"] == "budgets.recordsPerRequest"
    assert len(harness.emulator.log) == calls  # refused before any work
    assert await refusals(gw, "recordsPerRequest") == 1
    # the same entries, fewer of them, fit; the answer is streamed (chunked), entry by entry
    status, body, headers = await bulk(gw, [query_entry(harness, {"pageSize": 1000})] * 4)
    assert status == 200 and [e["status"] for e in body] == [200] * 4
    assert headers.get("Transfer-Encoding") == "chunked"
    assert all(len(e["contents"]["data"]) == len(harness.records()) for e in body)


async def test_bulk_answer_crossing_its_bytes_budget_stops_there(
    make_gateway: Any, harness: Harness
) -> None:
    gw = await gateway(make_gateway, harness, {"responseBytesPerRequest": 4096})
    before = list_calls(harness)
    status, body, _ = await bulk(gw, [query_entry(harness, {"pageSize": 20})] * 30)
    assert status == 200 and len(body) == 30
    statuses = [e["status"] for e in body]
    first_refused = statuses.index(413)
    assert 0 < first_refused < 30 and set(statuses[:first_refused]) == {200}
    assert set(statuses[first_refused:]) == {413}  # every entry after the crossing, unrun
    refused = body[first_refused]["contents"]
    assert refused["error"] == "payload_too_large"
    assert refused["details"][0]["path"] == "budgets.responseBytesPerRequest"
    # the refused entries made no backend call (reads run 4 at a time, so a few may have
    # started before the crossing was known)
    assert list_calls(harness) - before <= first_refused + 4
    assert await refusals(gw, "responseBytesPerRequest") == 1


async def test_bulk_of_scans_costs_a_token_per_entry(make_gateway: Any, harness: Harness) -> None:
    # Repro 2: a bulk of 10 full scans cost one token; now it costs ten.
    gw = await gateway(make_gateway, harness, rate={"requestsPerSecond": 0.01, "burst": 50})
    status, body, headers = await bulk(gw, [query_entry(harness, scan_body(harness))] * 10)
    assert status == 200 and [e["status"] for e in body] == [200] * 10
    assert headers["RateLimit-Remaining"] == "40"


async def test_scan_calls_are_charged_before_the_walk(make_gateway: Any, harness: Harness) -> None:
    # Four backend calls a second, none refilled within the test: a cheap query fits, a scan of
    # 250+ records in calls of 50 does not, and is refused before it walks.
    gw = await gateway(make_gateway, harness,
                       {"backendCallsPerSecond": 0.001, "backendCallsBurst": 4})
    resp = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                         params={"orgId": ORG}, json=scan_body(harness), headers=AUTH)
    body = await resp.json()
    assert resp.status == 429 and body["error"] == "rate_limited", body
    assert "backendCallsPerSecond" in body["msg"] and int(resp.headers["Retry-After"]) >= 1
    assert list_calls(harness) <= 1  # at most the count: the walk never started
    assert await refusals(gw, "backendCallsPerSecond") == 1
    other = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                          params={"orgId": ORG}, json={"pageSize": 2}, headers=OTHER)
    assert other.status == 200  # the other consumer has its own budget


async def test_scan_larger_than_the_records_budget_is_refused_before_the_walk(
    make_gateway: Any, harness: Harness
) -> None:
    gw = await gateway(make_gateway, harness, {"recordsPerRequest": 100})
    resp = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                         params={"orgId": ORG}, json=scan_body(harness), headers=AUTH)
    body = await resp.json()
    assert resp.status == 413 and body["details"][0]["path"] == "budgets.recordsPerRequest"
    # a backend with counts is refused after its count alone; one without stops on crossing
    assert list_calls(harness) <= 100 // PER_CALL + 1
    cheap = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                          params={"orgId": ORG}, json={"pageSize": 50}, headers=AUTH)
    assert cheap.status == 200


async def test_bulk_entries_per_minute(make_gateway: Any, harness: Harness) -> None:
    gw = await gateway(make_gateway, harness, {"bulkEntriesPerMinute": 10})
    entry = query_entry(harness, {"pageSize": 1})
    assert (await bulk(gw, [entry] * 6))[0] == 200
    status, body, headers = await bulk(gw, [entry] * 6)
    assert status == 429 and "bulkEntriesPerMinute" in body["msg"]
    assert int(headers["Retry-After"]) >= 1
    status, body, _ = await bulk(gw, [entry] * 11)  # more than a minute's worth: never fits
    assert status == 413 and body["details"][0]["path"] == "budgets.bulkEntriesPerMinute"
    assert (await bulk(gw, [entry] * 6, headers=OTHER))[0] == 200  # per consumer


async def _until(check: Any, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_concurrent_scans_beyond_the_bound_are_429_while_others_answer(
    make_gateway: Any, harness: Harness
) -> None:
    # Repro 6, scaled down: two slow scans in flight are this consumer's bound.
    gw = await gateway(make_gateway, harness, {"concurrentScans": 2})
    harness.emulator.faults.latency = 0.2
    path = f"/v1/records/{harness.type}/{harness.roles.entity}/query"
    scans = [asyncio.create_task(gw.post(path, params={"orgId": ORG}, json=scan_body(harness),
                                         headers=AUTH)) for _ in range(2)]
    slots = gw.app[SCANS]
    await _until(lambda: slots.held("tester") == 2, "two scans in flight")
    third = await gw.post(path, params={"orgId": ORG}, json=scan_body(harness), headers=AUTH)
    body = await third.json()
    assert third.status == 429 and body["error"] == "rate_limited"
    assert "concurrentScans" in body["msg"] and third.headers["Retry-After"] == "1"
    assert slots.held("tester") == 2  # refused while both still ran
    cheap = await gw.post(path, params={"orgId": ORG}, json={"pageSize": 2}, headers=OTHER)
    assert cheap.status == 200
    assert [(await s).status for s in scans] == [200, 200]
    assert slots.held("tester") == 0
    assert await refusals(gw, "concurrentScans") == 1


async def test_a_bulks_own_scans_wait_for_a_slot(make_gateway: Any, harness: Harness) -> None:
    gw = await gateway(make_gateway, harness, {"concurrentScans": 1})
    status, body, _ = await bulk(gw, [query_entry(harness, scan_body(harness))] * 3)
    assert status == 200 and [e["status"] for e in body] == [200] * 3


@pytest.mark.parametrize("idempotent", [False, True])
async def test_bulk_answer_is_the_same_streamed_or_whole(
    make_gateway: Any, harness: Harness, idempotent: bool
) -> None:
    gw = await gateway(make_gateway, harness)
    headers = {**AUTH, "Idempotency-Key": "budget-test-1"} if idempotent else AUTH
    entries = [query_entry(harness, {"pageSize": 3}), {"url": "/v1/nowhere"}]
    status, body, resp_headers = await bulk(gw, entries, headers)
    assert status == 200 and [e["status"] for e in body] == [200, 404]
    assert len(body[0]["contents"]["data"]) == 3
    assert (resp_headers.get("Transfer-Encoding") == "chunked") is not idempotent
    status, body, _ = await bulk(gw, [], headers={**AUTH, "Idempotency-Key": "k2"}
                                 if idempotent else AUTH)
    assert status == 200 and body == []
