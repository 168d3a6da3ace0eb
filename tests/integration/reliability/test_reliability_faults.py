"""The fault matrix, per source: what a consumer sees when the backend misbehaves in each way."""

from __future__ import annotations

from typing import Any

from tests.integration.reliability.conftest import AUTH, ORG, READ_PATHS, ask, reads


async def test_transient_5xx_on_a_read_is_retried_and_answered(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness)
    await ask(gw, harness)  # logged in, metadata cached
    before = reads(harness)
    harness.emulator.faults.fail(503, times=2, path=READ_PATHS[harness.type])
    status, body, _, _ = await ask(gw, harness)
    assert status == 200 and len(body["data"]) == 2
    assert reads(harness) - before == 3


async def test_429_whose_retry_after_fits_is_waited_out(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness, server={"requestTimeout": 5})
    await ask(gw, harness)
    harness.emulator.faults.rate_limit(times=1, retry_after=0.3, path=READ_PATHS[harness.type])
    status, _, _, took = await ask(gw, harness)
    assert status == 200 and took >= 0.3


async def test_429_whose_retry_after_outlives_the_deadline_is_answered_at_once(
    harness: Any, gateway_on: Any
):
    gw = await gateway_on(harness, server={"requestTimeout": 2}, retries=3)
    await ask(gw, harness)
    before = reads(harness)
    harness.emulator.faults.rate_limit(times=5, retry_after=30, path=READ_PATHS[harness.type])
    status, body, headers, took = await ask(gw, harness)
    assert status == 429 and body["error"] == "rate_limited", body
    assert headers["Retry-After"] == "30" and took < 1.5  # not a 30 s wait, nor a 2 s timeout
    assert reads(harness) - before == 1


async def test_answers_slower_than_the_deadline_are_504_within_it(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness, server={"requestTimeout": 0.6}, timeout=5, retries=3)
    await ask(gw, harness)
    harness.emulator.faults.latency = 2.0
    status, body, _, took = await ask(gw, harness)
    assert status == 504 and body["error"] == "backend_timeout", body
    assert took < 1.3


async def test_answers_slower_than_the_source_timeout_are_504(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness, timeout=0.2, retries=1)
    await ask(gw, harness)
    harness.emulator.faults.latency = 1.0
    status, body, _, took = await ask(gw, harness)
    assert status == 504 and body["error"] == "backend_timeout" and took < 1.5


async def test_a_dropped_connection_on_a_read_is_retried(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness)
    await ask(gw, harness)
    harness.emulator.faults.drop(times=1, path=READ_PATHS[harness.type])
    status, body, _, _ = await ask(gw, harness)
    assert status == 200 and len(body["data"]) == 2


async def test_a_create_whose_answer_is_lost_is_reported_and_exists_exactly_once(
    harness: Any, gateway_on: Any
):
    gw = await gateway_on(harness, retries=3)
    await ask(gw, harness)
    before = len(harness.records())
    path = harness.create_path()
    sent = harness.emulator.calls("POST", path)
    harness.emulator.faults.drop(times=1, after_processing=True, method="POST", path=path)
    resp = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}",
                         params={"orgId": ORG}, json=harness.roles.writable, headers=AUTH)
    body = await resp.json()
    assert resp.status == 502 and body["error"] == "backend_error", body
    assert harness.emulator.calls("POST", path) - sent == 1  # never repeated
    assert len(harness.records()) == before + 1


async def test_malformed_json_on_a_read_is_retried(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness)
    await ask(gw, harness)
    harness.emulator.faults.malformed(times=1, path=READ_PATHS[harness.type])
    status, body, _, _ = await ask(gw, harness)
    assert status == 200 and len(body["data"]) == 2


async def test_token_expiry_in_the_middle_of_paging_costs_one_token_call(
    harness: Any, gateway_on: Any
):
    gw = await gateway_on(harness)
    status, first, _, _ = await ask(gw, harness, {"pageSize": 3, "pageNo": 1})
    assert status == 200
    tokens = harness.token_calls()
    harness.emulator.faults.expire_tokens()
    status, second, _, _ = await ask(gw, harness, {"pageSize": 3, "pageNo": 2})
    assert status == 200, second
    assert harness.token_calls() - tokens == 1
    ids = [r["id"] for r in first["data"]] + [r["id"] for r in second["data"]]
    assert len(set(ids)) == 6
