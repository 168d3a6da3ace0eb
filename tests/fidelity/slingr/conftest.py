"""Fixtures for the Slingr emulator fidelity tests: a seeded emulator and a logged-in client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from connectors.slingr.emulator import SlingrEmulator

API = "/dev/runtime/api"
USERS = {"admin@example.com": "admin", "user@test.com": "abcdefgh"}

Call = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
def slingr() -> SlingrEmulator:
    return SlingrEmulator(users=dict(USERS))


@pytest.fixture
async def raw_client(slingr: SlingrEmulator,
                     aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await aiohttp_client(slingr.app)


async def slingr_login(client: TestClient, email: str = "admin@example.com",
                       password: str = "admin") -> str:
    resp = await client.post(f"{API}/auth/login", json={"email": email, "password": password})
    assert resp.status == 200, await resp.text()
    token: str = (await resp.json())["token"]
    return token


@pytest.fixture
async def api(raw_client: TestClient) -> Call:
    """call(method, path, **kw) -> (status, json or bytes) with a valid `token` header."""
    token = await slingr_login(raw_client)

    async def call(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        headers = {"token": token, **kw.pop("headers", {})}
        resp = await raw_client.request(method, API + path, headers=headers, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.read()
        return resp.status, body

    return call
