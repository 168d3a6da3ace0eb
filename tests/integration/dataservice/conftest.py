"""Data Service connector ↔ the Data Service emulator over loopback HTTP."""

from collections.abc import AsyncIterator, Callable

import pytest

from connectors.dataservice.config import DataServiceSource
from connectors.dataservice.connector import DataServiceConnector
from connectors.dataservice.emulator import DataServiceEmulator
from tests.integration.connector_fixtures import FAST, connectors, serve


@pytest.fixture
async def server() -> AsyncIterator[tuple[DataServiceEmulator, str]]:
    async with serve(DataServiceEmulator(seed=42, olympics=120)) as served:
        yield served


@pytest.fixture
def emu(server) -> DataServiceEmulator:
    return server[0]


@pytest.fixture
async def make(server) -> AsyncIterator[Callable[..., DataServiceConnector]]:
    """Build connectors on the emulator; ``make(secret="x", timeout=0.3, retries=0, ...)``."""
    async with connectors("robots", DataServiceSource, DataServiceConnector) as open_one:

        def build(*, secret="recordgate-secret", policy=FAST, **over) -> DataServiceConnector:
            return open_one({
                "type": "dataservice", "baseUrl": f"{server[1]}/acme/DefaultTenant",
                "auth": {"tokenUrl": f"{server[1]}/identity_/connect/token",
                         "clientId": "recordgate", "clientSecret": secret,
                         "scope": "DataService.Data.Read DataService.Data.Write "
                                  "DataService.Schema.Read"},
                "maxPerCall": 50, "timeout": 5, "retries": 2, **over,
            }, policy)

        yield build


@pytest.fixture
async def ds(make) -> DataServiceConnector:
    return make()
