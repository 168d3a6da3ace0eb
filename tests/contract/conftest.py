"""The contract suite's fixtures: every test here runs once per source type in HARNESSES."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.contract.backends import HARNESSES, Harness
from tests.contract.oracle import expected

ORG = "acme"
AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest, aiohttp_server: Any) -> Harness:
    h = HARNESSES[request.param]()
    await h.start(aiohttp_server)
    return h


GatewayFor = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def gateway_for(make_gateway: Any) -> GatewayFor:
    """``await gateway_for(harness, per_call=7)``: a gateway whose one source is that harness."""

    async def make(h: Harness, **source_kw: Any) -> TestClient:
        return await make_gateway({h.type: h.source(**source_kw)})

    return make


@pytest.fixture
async def gw(harness: Harness, gateway_for: GatewayFor) -> TestClient:
    return await gateway_for(harness)


async def query(client: TestClient, h: Harness, body: dict[str, Any],
                status: int = 200) -> dict[str, Any]:
    resp = await client.post(f"/v1/records/{h.type}/{h.roles.entity}/query",
                             params={"orgId": ORG}, json=body, headers=AUTH)
    payload = await resp.json()
    assert resp.status == status, payload
    return payload  # type: ignore[no-any-return]


async def walk(client: TestClient, h: Harness, body: dict[str, Any],
               page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Every page from 1 until an empty one; returns all records and the totalSize seen."""
    out: list[dict[str, Any]] = []
    totals = set()
    for page_no in range(1, 10_000):
        got = await query(client, h, {**body, "pageSize": page_size, "pageNo": page_no})
        totals.add(got["pagination"]["totalSize"])
        if not got["data"]:
            break
        assert len(got["data"]) <= page_size
        out.extend(got["data"])
    assert len(totals) == 1, f"totalSize changed while walking: {totals}"
    return out, totals.pop()


def oracle(h: Harness, filter: list[list[dict[str, Any]]] | None = None,
           order: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """What the contract says the answer is, from the emulator's own data."""
    return expected(h.records(), h.types, filter, order,
                    case_insensitive=h.case_insensitive, id_key=h.id_key)
