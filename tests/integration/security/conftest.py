"""Fixtures: gateways on the memory connector or the emulators, with either state backend."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import MappingProxyType
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
import structlog
from aiohttp.test_utils import TestClient

import gateway.config.model as config_model
import gateway.registry as registry
from gateway.config.model import GatewayConfig
from gateway.http.app import create_app
from gateway.observability.logging import configure_logging
from gateway.observability.redact import Redactor
from tests.contract.backends import HARNESSES, Harness
from tests.integration.http.memory import MEMORY_TYPE, STORES, MemoryStore
from tests.redis_server import require_redis

KEY = "security-key-0001"
RO_KEY = "readonly-key-0002"
BACKEND_PASSWORD = "mem-backend-pw-31337"
ORG = "acme"

Gateway = Callable[..., Awaitable[TestClient]]


def auth(key: str = KEY, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``state`` config block, once per backend; each test its own Redis key prefix."""
    if request.param == "memory":
        return {"backend": "memory"}
    url = require_redis()
    return {"backend": "redis", "url": url, "prefix": f"test:{uuid.uuid4().hex}:",
            "secretKey": "security-state-key-0001"}


@pytest.fixture(autouse=True)
def memory_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """``type: memory`` known to config validation (the emulator types stay known too)."""
    types = MappingProxyType({**registry.connector_types(), "memory": MEMORY_TYPE})
    monkeypatch.setattr(registry, "connector_types", lambda: types)
    monkeypatch.setattr(config_model, "connector_types", lambda: types)
    STORES.clear()
    STORES["mem"] = MemoryStore(records={"Accounts": {
        "1": {"id": "1", "name": "Acme", "industry": "Energy", "annual_revenue": 5,
              "date_entered": "2024-01-01T00:00:00Z"},
    }, "Contacts": {}})


def memory_source() -> dict[str, Any]:
    return {"type": "memory", "baseUrl": "http://127.0.0.1:9",
            "auth": {"password": BACKEND_PASSWORD}}


def config(
    sources: dict[str, Any] | None = None,
    *,
    consumers: list[dict[str, Any]] | None = None,
    state: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> GatewayConfig:
    return GatewayConfig.model_validate({
        "server": server or {},
        "consumers": consumers or [{"name": "app", "apiKey": KEY, "orgs": [ORG]}],
        "sources": sources or {"mem": memory_source()},
        "state": state or {"backend": "memory"},
    })


@pytest.fixture
def gateway(aiohttp_client: Any) -> Gateway:
    """``await gateway(sources=…, consumers=…, state=…)`` → a client over loopback."""

    async def make(redactor: Redactor | None = None, **kw: Any) -> TestClient:
        app = create_app(config(**kw), redactor=redactor, configure_logs=False)
        return await aiohttp_client(app)  # type: ignore[no-any-return]

    return make


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest, aiohttp_server: Any) -> Harness:
    h = HARNESSES[request.param]()
    await h.start(aiohttp_server)
    return h


@pytest.fixture
def log_stream() -> Iterator[io.BytesIO]:
    """The process's log lines, as the gateway writes them in production (JSON, redacted)."""
    stream = io.BytesIO()
    yield stream
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__name__ == "_BytesHandler":
            root.removeHandler(handler)


@pytest.fixture
def logged_redactor(log_stream: io.BytesIO) -> Redactor:
    redactor = Redactor()
    configure_logging("debug", redactor, stream=log_stream)
    return redactor


def log_lines(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(require_redis())
    yield client
    await client.aclose()
