"""Fixtures for the Data Service emulator fidelity tests: an emulator and a token-bearing client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from connectors.dataservice.emulator import DataServiceEmulator

TOKEN = "/identity_/connect/token"
API = "/acme/DefaultTenant/datafabric_/api"
SCOPE = "DataService.Data.Read DataService.Data.Write DataService.Schema.Read"


@pytest.fixture
def ds() -> DataServiceEmulator:
    return DataServiceEmulator(olympics=30, athletes=60)


async def get_token(client: TestClient, scope: str = SCOPE, client_id: str = "recordgate",
                    secret: str = "recordgate-secret") -> dict[str, Any]:
    resp = await client.post(TOKEN, data={"grant_type": "client_credentials",
                                          "client_id": client_id, "client_secret": secret,
                                          "scope": scope})
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
async def raw_client(ds: DataServiceEmulator,
                     aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await aiohttp_client(ds.app)


@pytest.fixture
async def api(raw_client: TestClient) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """call(method, path, **kw) -> (status, json or bytes) with a valid Bearer token."""
    token = (await get_token(raw_client))["access_token"]

    async def call(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        resp = await raw_client.request(method, API + path, headers=headers, **kw)
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.read()

    return call


def flt(field: str, op: str, value: Any = None, value_list: list[str] | None = None
        ) -> dict[str, Any]:
    out: dict[str, Any] = {"fieldName": field, "operator": op}
    if value is not None:
        out["value"] = value
    if value_list is not None:
        out["valueList"] = value_list
    return out
