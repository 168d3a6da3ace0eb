"""Reliability fixtures: each fault test runs once per source type (the contract harnesses)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.contract.backends import HARNESSES, Harness

ORG = "acme"
AUTH = {"Authorization": "Bearer test-key"}
# The path each emulator receives a record query on (Slingr's is the create path, with GET).
READ_PATHS = {
    "sugarcrm": "/rest/v10/Accounts/filter",
    "slingr": "/dev/runtime/api/data/companies",
    "dataservice": "/acme/DefaultTenant/datafabric_/api/EntityService/Athletes/query",
}


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest, aiohttp_server: Any) -> Harness:
    h = HARNESSES[request.param]()
    await h.start(aiohttp_server)
    return h


@pytest.fixture
def gateway_on(make_gateway: Any) -> Any:
    """``await gateway_on(h1, h2, server={...}, retries=0)``: one source per harness."""

    async def make(*harnesses: Harness, server: dict[str, Any] | None = None,
                   **source_kw: Any) -> TestClient:
        sources = {h.type: h.source(**source_kw) for h in harnesses}
        return await make_gateway(sources, server=server)

    return make


def reads(h: Harness) -> int:
    """Record queries the emulator has received so far."""
    path = READ_PATHS[h.type]
    return sum(1 for c in h.emulator.log if c.path == path and (
        h.type != "slingr" or c.method == "GET"))


async def ask(gw: TestClient, h: Harness, body: dict[str, Any] | None = None
              ) -> tuple[int, dict[str, Any], Any, float]:
    """One record query: status, body, headers and seconds taken."""
    started = time.monotonic()
    resp = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}/query", params={"orgId": ORG},
                         json=body or {"pageSize": 2}, headers=AUTH)
    payload = await resp.json()
    assert "Traceback" not in str(payload)
    return resp.status, payload, resp.headers, time.monotonic() - started


async def get_one(gw: TestClient, h: Harness) -> tuple[int, dict[str, Any], Any, float]:
    """Read one record by id: one backend call on every source (a query may make two)."""
    record_id = h.records()[0]["id"]
    started = time.monotonic()
    resp = await gw.get(f"/v1/records/{h.type}/{h.roles.entity}/{record_id}",
                        params={"orgId": ORG}, headers=AUTH)
    payload = await resp.json()
    return resp.status, payload, resp.headers, time.monotonic() - started


def backend_calls(h: Harness) -> int:
    return len(h.emulator.log)
