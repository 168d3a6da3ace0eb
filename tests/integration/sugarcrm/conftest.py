"""Sugar connector ↔ the Sugar emulator over loopback HTTP."""

from collections.abc import AsyncIterator, Callable

import pytest

from connectors.sugarcrm.config import SugarSource
from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.emulator import SugarEmulator
from tests.integration.connector_fixtures import FAST, connectors, serve


@pytest.fixture
async def server() -> AsyncIterator[tuple[SugarEmulator, str]]:
    async with serve(SugarEmulator(seed=42, accounts=250, contacts=600), "/rest/v10") as served:
        yield served


@pytest.fixture
def emu(server) -> SugarEmulator:
    return server[0]


@pytest.fixture
async def make(server) -> AsyncIterator[Callable[..., SugarConnector]]:
    """Build connectors on the emulator; ``make(password="x", timeout=0.3, retries=0, ...)``."""
    async with connectors("crm", SugarSource, SugarConnector) as open_one:

        def build(*, password="admin", username="admin", policy=FAST, **over) -> SugarConnector:
            return open_one({
                "type": "sugarcrm", "baseUrl": server[1],
                "auth": {"username": username, "password": password},
                "maxPerCall": 50, "timeout": 5, "retries": 2, **over,
            }, policy)

        yield build


@pytest.fixture
async def crm(make) -> SugarConnector:
    return make()
