"""Slingr connector ↔ the Slingr emulator over loopback HTTP."""

from collections.abc import AsyncIterator, Callable

import pytest

import tests.contract.backends  # noqa: F401  (loads the harnesses in order first)
from connectors.emulation.server import start
from connectors.slingr.config import SlingrSource
from connectors.slingr.connector import SlingrConnector
from connectors.slingr.emulator import SlingrEmulator
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.session import open_session
from tests.contract.harness_slingr import entities_config

FAST = RetryPolicy(base=0.01, cap=0.05, retry_after_cap=5)
BASE = "/dev/runtime/api"


@pytest.fixture
async def server() -> AsyncIterator[tuple[SlingrEmulator, str]]:
    emulator = SlingrEmulator(users={"admin@example.com": "admin"}, seed=42,
                              companies=250, contacts=600)
    runner, base = await start(emulator.app)
    yield emulator, f"{base}{BASE}"
    await runner.cleanup()


@pytest.fixture
def emu(server) -> SlingrEmulator:
    return server[0]


@pytest.fixture
async def make(server) -> AsyncIterator[Callable[..., SlingrConnector]]:
    """``make(password="x", typed=False, maxPerCall=7, ...)``: connectors on the emulator."""
    opened = []

    def build(*, password="admin", typed=True, policy=FAST, **over) -> SlingrConnector:
        config = SlingrSource.model_validate({
            "type": "slingr", "baseUrl": server[1],
            "auth": {"email": "admin@example.com", "password": password},
            "timeout": 5, "retries": 2,
            **({"entities": entities_config()} if typed else {}), **over,
        })
        session = open_session(config)
        ctx = UpstreamContext("app", None, config.timeout, config.retries)
        conn = SlingrConnector("app", config, session, ctx, policy=policy)
        opened.append((conn, session))
        return conn

    yield build
    for conn, session in opened:
        await conn.aclose()
        await session.close()


@pytest.fixture
async def app(make) -> SlingrConnector:
    return make()
