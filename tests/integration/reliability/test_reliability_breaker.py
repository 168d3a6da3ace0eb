"""Circuit breaker per source, through the gateway: opens, refuses without calling, one trial."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.reliability.conftest import backend_calls, get_one

BREAKER = {"failures": 3, "openSeconds": 30}


def sample(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not in /metrics")


async def test_n_failures_open_it_and_it_answers_503_without_calling_the_backend(
    harness: Any, gateway_on: Any
):
    gw = await gateway_on(harness, retries=0, breaker=BREAKER)
    await get_one(gw, harness)
    harness.emulator.faults.fail(500, times=50)
    for _ in range(3):
        status, body, _, _ = await get_one(gw, harness)
        assert status == 502, body
    assert sum(1 for c in harness.emulator.log if c.status == 500) == 3
    before = backend_calls(harness)
    status, body, headers, took = await get_one(gw, harness)
    assert status == 503 and body["error"] == "backend_unavailable", body
    assert 28 <= int(headers["Retry-After"]) <= 30 and took < 0.5
    assert backend_calls(harness) == before  # nothing reached the backend

    ready = await gw.get("/readyz")  # spec §14: an open circuit never fails readiness
    assert ready.status == 200 and await ready.json() == {"status": "ready"}
    listed = await (await gw.get("/v1/sources", params={"orgId": "acme"},
                                 headers={"Authorization": "Bearer test-key"})).json()
    (entry,) = listed["data"]
    assert (entry["circuit"], entry["health"]) == ("open", "down"), entry
    assert backend_calls(harness) == before  # nor does discovery call a backend it paused
    metrics = await (await gw.get("/metrics")).text()
    src = f'{{source="{harness.type}"}}'
    assert sample(metrics, f"gateway_breaker_state{src}") == 2
    assert sample(metrics, f"gateway_breaker_opened_total{src}") == 1


async def test_4xx_answers_never_open_it(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness, retries=0, breaker=BREAKER)
    await get_one(gw, harness)
    for _ in range(5):
        resp = await gw.get(f"/v1/records/{harness.type}/{harness.roles.entity}/"
                            f"{harness.missing_id}",
                            params={"orgId": "acme"}, headers={"Authorization": "Bearer test-key"})
        assert resp.status == 404
    status, _, _, _ = await get_one(gw, harness)
    assert status == 200


async def test_half_open_lets_one_trial_through_and_its_success_closes_it(
    harness: Any, gateway_on: Any
):
    gw = await gateway_on(harness, retries=0, breaker={"failures": 2, "openSeconds": 0.3})
    await get_one(gw, harness)
    harness.emulator.faults.fail(500, times=2)
    for _ in range(2):
        assert (await get_one(gw, harness))[0] == 502
    assert (await get_one(gw, harness))[0] == 503
    await asyncio.sleep(0.35)
    harness.emulator.faults.latency = 0.3  # the trial takes a while; others arrive meanwhile
    trial = asyncio.create_task(get_one(gw, harness))
    await asyncio.sleep(0.1)
    status, body, headers, took = await get_one(gw, harness)
    assert status == 503 and headers["Retry-After"] == "1" and took < 0.2, body
    assert (await trial)[0] == 200
    harness.emulator.faults.latency = 0
    assert (await get_one(gw, harness))[0] == 200
    listed = await (await gw.get("/v1/sources", params={"orgId": "acme"},
                                 headers={"Authorization": "Bearer test-key"})).json()
    assert [(s["circuit"], s["health"]) for s in listed["data"]] == [("closed", "ok")]


async def test_a_failed_trial_opens_it_again(harness: Any, gateway_on: Any):
    gw = await gateway_on(harness, retries=0, breaker={"failures": 1, "openSeconds": 0.2})
    await get_one(gw, harness)
    harness.emulator.faults.fail(502, times=2)
    assert (await get_one(gw, harness))[0] == 502
    await asyncio.sleep(0.25)
    assert (await get_one(gw, harness))[0] == 502  # the trial, failing
    before = backend_calls(harness)
    assert (await get_one(gw, harness))[0] == 503
    assert backend_calls(harness) == before
