"""Fixtures every suite may use: a gateway built from a config dict, served over loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from gateway.config.load import load_config_text
from gateway.http.app import create_app

MakeGateway = Callable[..., Awaitable[TestClient]]


def gateway_config_text(
    sources: dict[str, Any],
    *,
    consumers: list[dict[str, Any]] | None = None,
    server: dict[str, Any] | None = None,
    orgs: dict[str, Any] | None = None,
) -> str:
    doc: dict[str, Any] = {
        "server": {"maxPageSize": 1000, **(server or {})},
        "consumers": consumers
        or [{"name": "tester", "apiKey": "test-key", "orgs": ["acme"]}],
        "sources": sources,
    }
    if orgs:
        doc["orgs"] = orgs
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture
def make_gateway(aiohttp_client: Any) -> MakeGateway:
    """``await make_gateway(sources={...})`` → a test client talking to a gateway over loopback."""

    async def make(sources: dict[str, Any], **kw: Any) -> TestClient:
        config = load_config_text(gateway_config_text(sources, **kw), "test.yaml", env={})
        return await aiohttp_client(create_app(config, configure_logs=False))

    return make
