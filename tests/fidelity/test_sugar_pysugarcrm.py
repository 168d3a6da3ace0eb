"""The emulator against a vendor-side client: PyPI `pysugarcrm` (PY-PSC) over loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from connectors.emulation.server import start
from connectors.sugarcrm.emulator import SugarEmulator

pysugarcrm = pytest.importorskip("pysugarcrm")


@pytest.fixture
async def served():
    emu = SugarEmulator(accounts=30, contacts=10)
    runner, base = await start(emu.app)
    yield emu, base
    await runner.cleanup()


async def test_default_platform_api_is_refused_like_a_stock_server(served):
    _, base = served
    # PY-PSC posts its login JSON without a content type and defaults to platform "api".
    with pytest.raises(ValueError, match="No access token received"):
        await asyncio.to_thread(pysugarcrm.SugarCRM, base, "admin", "admin")


async def test_pysugarcrm_session_against_emulator(served):
    emu, base = served

    def session() -> tuple[dict, dict, dict, dict, bool]:
        api = pysugarcrm.SugarCRM(base, "admin", "admin", platform="base")
        me = api.me
        listed = api.get("/Accounts", query_params={"max_num": 5, "fields": "name"})
        filtered = api.get("/Accounts", query_params={
            "filter": json.dumps([{"name": {"$starts": "acme"}}]), "max_num": -1})
        created = api.post("/Accounts", json={"name": "From pysugarcrm"})
        return me, listed, filtered, created, api.close()

    me, listed, filtered, created, closed = await asyncio.to_thread(session)
    assert me["current_user"]["user_name"] == "admin"
    assert len(listed["records"]) == 5 and listed["next_offset"] == 5
    assert {r["name"].casefold() for r in filtered["records"]} == {"acme corp"}
    assert emu.store.get("Accounts", created["id"])["name"] == "From pysugarcrm"
    assert closed is True
    assert emu.calls("POST", "/rest/v10/oauth2/logout") == 1
