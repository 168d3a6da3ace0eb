"""Data Service connector ↔ the Data Service emulator over loopback HTTP."""

from collections.abc import AsyncIterator, Callable

import pytest

from connectors.dataservice.config import DataServiceSource
from connectors.dataservice.connector import DataServiceConnector
from connectors.dataservice.emulator import DataServiceEmulator
from connectors.emulation.server import start
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.session import open_session

FAST = RetryPolicy(base=0.01, cap=0.05, retry_after_cap=5)


@pytest.fixture
async def server() -> AsyncIterator[tuple[DataServiceEmulator, str]]:
    emulator = DataServiceEmulator(seed=42, olympics=120)
    runner, base = await start(emulator.app)
    yield emulator, base
    await runner.cleanup()


@pytest.fixture
def emu(server) -> DataServiceEmulator:
    return server[0]


@pytest.fixture
async def make(server) -> AsyncIterator[Callable[..., DataServiceConnector]]:
    """Build connectors on the emulator; ``make(secret="x", timeout=0.3, retries=0, ...)``."""
    opened = []

    def build(*, secret="recordgate-secret", policy=FAST, **over) -> DataServiceConnector:
        config = DataServiceSource.model_validate({
            "type": "dataservice", "baseUrl": f"{server[1]}/acme/DefaultTenant",
            "auth": {"tokenUrl": f"{server[1]}/identity_/connect/token",
                     "clientId": "recordgate", "clientSecret": secret,
                     "scope": "DataService.Data.Read DataService.Data.Write "
                              "DataService.Schema.Read"},
            "maxPerCall": 50, "timeout": 5, "retries": 2, **over,
        })
        session = open_session(config)
        ctx = UpstreamContext("robots", None, config.timeout, config.retries)
        conn = DataServiceConnector("robots", config, session, ctx, policy=policy)
        opened.append((conn, session))
        return conn

    yield build
    for conn, session in opened:
        await conn.aclose()
        await session.close()


@pytest.fixture
async def ds(make) -> DataServiceConnector:
    return make()
