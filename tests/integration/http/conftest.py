"""Fixtures: a gateway app on the test-only memory connector, clients with each consumer's key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

import gateway.config.model as config_model
import gateway.registry as registry
from gateway.config.model import GatewayConfig
from gateway.http.app import create_app
from gateway.observability.metrics import Metrics
from tests.integration.http.memory import MEMORY_TYPE, STORES, MemoryStore

APP_KEY = "test-key-123456"
HASHED_KEY = "hashed-key-abcdef"
NARROW_KEY = "narrow-key-98765"
BACKEND_PASSWORD = "s3cret-backend-pw"
GLOBEX_PASSWORD = "globex-pw-7777"

ACCOUNTS = {
    str(i): {"id": str(i), "name": name, "industry": industry, "annual_revenue": revenue,
             "date_entered": f"2024-01-{i:02d}T00:00:00Z"}
    for i, (name, industry, revenue) in enumerate([
        ("Acme", "Energy", 5000), ("Acorn", "Retail", 200), ("Globex", "Energy", 1500),
        ("Initech", "Software", 900), ("Umbrella", "Pharma", 12000),
    ], start=1)
}


@pytest.fixture(autouse=True)
def memory_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``type: memory`` a known connector type for config validation and the factory."""
    types = MappingProxyType({"memory": MEMORY_TYPE})
    monkeypatch.setattr(registry, "connector_types", lambda: types)
    monkeypatch.setattr(config_model, "connector_types", lambda: types)
    STORES.clear()
    STORES["mem"] = MemoryStore(records={"Accounts": {k: dict(v) for k, v in ACCOUNTS.items()}})
    STORES["other"] = MemoryStore(records={"Things": {}})


def make_config(**server: Any) -> GatewayConfig:
    return GatewayConfig.model_validate({
        "server": {"maxBodyBytes": 4096, **server},
        "consumers": [
            {"name": "app", "apiKey": APP_KEY, "orgs": ["acme", "globex"]},
            {"name": "hashed", "apiKeySha256": hashlib.sha256(HASHED_KEY.encode()).hexdigest(),
             "orgs": ["*"], "sources": ["mem"]},
            {"name": "narrow", "apiKey": NARROW_KEY, "orgs": ["acme"], "sources": ["other"]},
        ],
        "sources": {
            "mem": {"type": "memory", "baseUrl": "http://127.0.0.1:9",
                    "auth": {"password": BACKEND_PASSWORD}},
            "other": {"type": "memory", "baseUrl": "http://127.0.0.1:9",
                      "auth": {"password": "other-pw-5555"}},
        },
        "orgs": {"globex": {"sources": {"mem": {"auth": {"password": GLOBEX_PASSWORD}}}}},
    })


@pytest.fixture
def config() -> GatewayConfig:
    return make_config()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Any], config: GatewayConfig, metrics: Metrics
) -> Any:
    return await aiohttp_client(create_app(config, metrics=metrics, configure_logs=False))


def auth(key: str = APP_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
