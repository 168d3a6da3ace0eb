"""Fixtures: gateways with the read cache on, over loopback, in front of the SugarCRM emulator.

Backend work is read from the emulator's request log: :func:`record_calls` counts the calls
that read or write records (token and metadata calls left out), so "no backend call" means the
answer came from the gateway's cache.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.config.model import GatewayConfig
from gateway.http.app import create_app
from gateway.observability.metrics import Metrics
from tests.contract.harness_sugarcrm import SugarHarness
from tests.redis_server import require_redis

KEY = "cache-key-0001"
NARROW_KEY = "cache-narrow-0002"  # Contacts only: related Accounts are cut (gateway/related.py)
TWIN_KEY = "cache-twin-0003"  # another consumer with the same scopes as KEY
ORG = "acme"
SOURCE = "sugarcrm"
RECORDS = "/rest/v10/"  # the emulator's record paths start /rest/v10/<Module>
NOT_RECORDS = ("/rest/v10/oauth2/", "/rest/v10/metadata", "/rest/v10/me")

CONSUMERS = [
    {"name": "app", "apiKey": KEY, "orgs": [ORG, "globex"]},
    {"name": "narrow", "apiKey": NARROW_KEY, "orgs": [ORG],
     "scopes": {"entities": ["sugarcrm/Contacts"]}},
    {"name": "twin", "apiKey": TWIN_KEY, "orgs": [ORG]},
]


def auth(key: str = KEY, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


@dataclass
class Gateway:
    """A gateway app served over loopback, with its metrics."""

    client: TestClient[Any, Any]
    metrics: Metrics

    def sample(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def sugar(aiohttp_server: Any) -> SugarHarness:
    h = SugarHarness()
    await h.start(aiohttp_server)
    return h


def record_calls(h: SugarHarness) -> int:
    """Calls the emulator received that read or write records (logins, metadata left out)."""
    return sum(1 for c in h.emulator.log
               if c.path.startswith(RECORDS) and not c.path.startswith(NOT_RECORDS))


def cache_config(**cache: Any) -> dict[str, Any]:
    return {"ttl": 60, "maxBytes": "1MiB", **cache}


@pytest.fixture
def start_gateway(aiohttp_client: Any, sugar: SugarHarness) -> StartGateway:
    """``await start_gateway(cache={...}, state={...}, source={...})`` → a :class:`Gateway`
    whose source ``sugarcrm`` is the test's emulator (cache None: no cache)."""

    async def make(cache: dict[str, Any] | None = None, *, state: dict[str, Any] | None = None,
                   source: dict[str, Any] | None = None) -> Gateway:
        src = {**sugar.source(), **(source or {})}
        if cache is not None:
            src["cache"] = cache
        config = GatewayConfig.model_validate({
            "consumers": CONSUMERS,
            "sources": {SOURCE: src},
            "state": state or {"backend": "memory"},
        })
        metrics = Metrics()
        client = await aiohttp_client(create_app(config, metrics=metrics, configure_logs=False))
        return Gateway(client, metrics)

    return make


@pytest.fixture
def redis_state() -> dict[str, Any]:
    """A ``state`` block on the test Redis, with a prefix of this test's own."""
    return {"backend": "redis", "url": require_redis(), "prefix": f"test:{uuid.uuid4().hex}:",
            "secretKey": "cache-test-secret-0001"}


def first_id(h: SugarHarness, module: str = "Accounts") -> str:
    return str(sorted(r["id"] for r in h.emulator.store.all(module))[0])


async def read(gw: Gateway, path: str, *, key: str = KEY, status: int = 200,
               **headers: str) -> tuple[Any, Any]:
    """GET ``path`` (orgId added): the decoded body (None for 304) and the response."""
    sep = "&" if "?" in path else "?"
    resp = await gw.client.get(f"{path}{sep}orgId={ORG}", headers=auth(key, **headers))
    body = await resp.json() if resp.status != 304 else None
    assert resp.status == status, body
    return body, resp


async def until(check: Callable[[], Awaitable[bool]], tries: int = 500) -> None:
    """Poll ``check`` until it holds (bounded: a failure, not a hang; never a timed assert)."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")
