"""A connector without the write role: the gateway answers 422 ``unsupported`` itself."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import aiohttp
import pytest

import gateway.config.model as config_model
import gateway.registry as registry
from gateway.connector import BatchWriter, FileStore, Writer, plays
from gateway.http.app import create_app
from gateway.observability.metrics import Metrics
from gateway.registry import ConnectorType
from gateway.upstream.context import UpstreamContext
from tests.integration.http.conftest import auth, make_config
from tests.integration.http.memory import MEMORY_TYPE, MemoryConnector, MemorySource

ORG = {"orgId": "acme"}


class ReadOnly:
    """The memory connector's read role only: no create, update, delete, batch or files."""

    def __init__(self, inner: MemoryConnector) -> None:
        self._inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.entities, self.describe = inner.entities, inner.describe
        self.pushable, self.query, self.count = inner.pushable, inner.query, inner.count
        self.get, self.check, self.aclose = inner.get, inner.check, inner.aclose


def _read_only(name: str, cfg: Any, session: aiohttp.ClientSession,
               ctx: UpstreamContext) -> ReadOnly:
    return ReadOnly(MemoryConnector(name, cfg, ctx))


@pytest.fixture
async def gw(aiohttp_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``mem`` is read-only; ``other`` is the full memory connector."""
    ro = ConnectorType(name="memory", config_model=MemorySource, factory=_read_only)
    types = MappingProxyType({"memory": ro})
    monkeypatch.setattr(registry, "connector_types", lambda: types)
    monkeypatch.setattr(config_model, "connector_types", lambda: types)
    return await aiohttp_client(create_app(make_config(), metrics=Metrics(),
                                           configure_logs=False))


def test_roles_are_read_off_the_class() -> None:
    assert not plays(ReadOnly.__new__(ReadOnly), Writer)
    assert MEMORY_TYPE.config_model is MemorySource  # the full one writes, batches nothing
    assert plays(MemoryConnector.__new__(MemoryConnector), Writer)
    assert not plays(MemoryConnector.__new__(MemoryConnector), BatchWriter)
    assert not plays(MemoryConnector.__new__(MemoryConnector), FileStore)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/records/mem/Accounts", {"name": "New"}),
    ("PATCH", "/v1/records/mem/Accounts/1", {"name": "Renamed"}),
    ("DELETE", "/v1/records/mem/Accounts/1", None),
])
async def test_writes_to_a_read_only_source_are_422(gw: Any, method: str, path: str,
                                                    body: Any) -> None:
    resp = await gw.request(method, path, params=ORG, json=body, headers=auth())
    got = await resp.json()
    assert resp.status == 422 and got["error"] == "unsupported", got
    assert got["msg"] == "Source mem cannot write records"
    still = await gw.get("/v1/records/mem/Accounts/1", params=ORG, headers=auth())
    assert still.status == 200 and (await still.json())["data"]["name"] == "Acme"


async def test_the_refusal_speaks_the_asked_locale(gw: Any) -> None:
    resp = await gw.post("/v1/records/mem/Accounts", params={**ORG, "locale": "es-ES"},
                         json={"name": "x"}, headers=auth())
    got = await resp.json()
    assert resp.status == 422 and got["msg"] == "La fuente mem no puede escribir registros"


async def test_a_bulk_write_entry_on_a_read_only_source_is_422_alone(gw: Any) -> None:
    resp = await gw.post("/v1/bulk", params=ORG, headers=auth(), json={"requests": [
        {"method": "GET", "url": "/v1/records/mem/Accounts/1"},
        {"method": "POST", "url": "/v1/records/mem/Accounts", "data": {"name": "New"}},
    ]})
    assert resp.status == 200, await resp.text()
    first, second = await resp.json()
    assert first["status"] == 200
    assert second["status"] == 422 and second["contents"]["error"] == "unsupported"
