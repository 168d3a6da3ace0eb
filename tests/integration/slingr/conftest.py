"""Slingr connector ↔ the Slingr emulator over loopback HTTP."""

from collections.abc import AsyncIterator, Callable

import pytest

import tests.contract.backends  # noqa: F401  (loads the harnesses in order first)
from connectors.slingr.config import SlingrSource
from connectors.slingr.connector import SlingrConnector
from connectors.slingr.emulator import SlingrEmulator
from tests.contract.harness_slingr import entities_config
from tests.integration.connector_fixtures import FAST, connectors, serve

BASE = "/dev/runtime/api"


@pytest.fixture
async def server() -> AsyncIterator[tuple[SlingrEmulator, str]]:
    emulator = SlingrEmulator(users={"admin@example.com": "admin"}, seed=42,
                              companies=250, contacts=600)
    async with serve(emulator, BASE) as served:
        yield served


@pytest.fixture
def emu(server) -> SlingrEmulator:
    return server[0]


@pytest.fixture
async def make(server) -> AsyncIterator[Callable[..., SlingrConnector]]:
    """``make(password="x", typed=False, maxPerCall=7, ...)``: connectors on the emulator."""
    async with connectors("app", SlingrSource, SlingrConnector) as open_one:

        def build(*, password="admin", typed=True, policy=FAST, **over) -> SlingrConnector:
            return open_one({
                "type": "slingr", "baseUrl": server[1],
                "auth": {"email": "admin@example.com", "password": password},
                "timeout": 5, "retries": 2,
                **({"entities": entities_config()} if typed else {}), **over,
            }, policy)

        yield build


@pytest.fixture
async def app(make) -> SlingrConnector:
    return make()
