"""Sugar connector ↔ the Sugar emulator over loopback HTTP."""

from collections.abc import AsyncIterator, Callable

import pytest

from connectors.emulation.server import start
from connectors.sugarcrm.config import SugarSource
from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.emulator import SugarEmulator
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.session import open_session

FAST = RetryPolicy(base=0.01, cap=0.05, retry_after_cap=5)


@pytest.fixture
async def server() -> AsyncIterator[tuple[SugarEmulator, str]]:
    emulator = SugarEmulator(seed=42, accounts=250, contacts=600)
    runner, base = await start(emulator.app)
    yield emulator, f"{base}/rest/v10"
    await runner.cleanup()


@pytest.fixture
def emu(server) -> SugarEmulator:
    return server[0]


@pytest.fixture
async def make(server) -> AsyncIterator[Callable[..., SugarConnector]]:
    """Build connectors on the emulator; ``make(password="x", timeout=0.3, retries=0, ...)``."""
    opened = []

    def build(*, password="admin", username="admin", policy=FAST, **over) -> SugarConnector:
        config = SugarSource.model_validate({
            "type": "sugarcrm", "baseUrl": server[1],
            "auth": {"username": username, "password": password},
            "maxPerCall": 50, "timeout": 5, "retries": 2, **over,
        })
        session = open_session(config)
        ctx = UpstreamContext("crm", None, config.timeout, config.retries)
        conn = SugarConnector("crm", config, session, ctx, policy=policy)
        opened.append((conn, session))
        return conn

    yield build
    for conn, session in opened:
        await conn.aclose()
        await session.close()


@pytest.fixture
async def crm(make) -> SugarConnector:
    return make()
