"""Fixtures for the emulator fidelity tests: a seeded Sugar emulator and a logged-in client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from connectors.sugarcrm.emulator import SugarEmulator

API = "/rest/v10"


@pytest.fixture
def sugar() -> SugarEmulator:
    return SugarEmulator(users={"admin": "admin", "sally": "s3cret"})


async def login(client: TestClient, user: str = "admin", password: str = "admin",
                platform: str = "base") -> dict[str, Any]:
    resp = await client.post(f"{API}/oauth2/token", json={
        "grant_type": "password", "client_id": "sugar", "client_secret": "",
        "username": user, "password": password, "platform": platform})
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
async def raw_client(sugar: SugarEmulator, aiohttp_client: Callable[..., Awaitable[TestClient]]
                     ) -> TestClient:
    return await aiohttp_client(sugar.app)


@pytest.fixture
async def api(raw_client: TestClient) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """call(method, path, **kw) -> (status, json) with a valid OAuth-Token."""
    token = (await login(raw_client))["access_token"]

    async def call(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        headers = {"OAuth-Token": token, **kw.pop("headers", {})}
        resp = await raw_client.request(method, API + path, headers=headers, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.read()
        return resp.status, body

    return call
