"""Fault knobs shared by the emulators, exercised through the Sugar emulator over real HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from connectors.emulation.server import start
from connectors.sugarcrm.emulator import EMULATOR_KEY, SugarEmulator, create_app
from tests.fidelity.conftest import API, login


async def test_fail_with_backend_shaped_body_matching_path_and_method(api, sugar):
    sugar.faults.fail(502, times=2, path=f"{API}/Accounts", method="GET")
    assert (await api("GET", "/Contacts"))[0] == 200  # other paths untouched
    for _ in range(2):
        status, body = await api("GET", "/Accounts")
        assert (status, body["error"]) == (502, "bad_gateway")
    assert (await api("GET", "/Accounts"))[0] == 200
    assert [c.status for c in sugar.log if c.path == f"{API}/Accounts"] == [502, 502, 200]


async def test_rate_limit_has_retry_after(raw_client, sugar):
    sugar.faults.rate_limit(retry_after=3)
    resp = await raw_client.get(f"{API}/ping")
    assert resp.status == 429 and resp.headers["Retry-After"] == "3"


async def test_malformed_body(raw_client, sugar):
    sugar.faults.malformed()
    resp = await raw_client.get(f"{API}/ping")
    assert resp.status == 200
    with pytest.raises(ValueError):  # truncated JSON
        await resp.json()


async def test_maintenance_answer_and_admin_only_login(raw_client, sugar):
    token = (await login(raw_client))["access_token"]
    sugar.faults.maintenance(True)
    resp = await raw_client.get(f"{API}/Accounts", headers={"OAuth-Token": token})
    body = await resp.json()
    assert resp.status == 503 and body["error"] == "maintenance" and body["url"]
    resp = await raw_client.post(f"{API}/oauth2/token", json={
        "grant_type": "password", "client_id": "sugar", "username": "sally",
        "password": "s3cret"})
    assert resp.status == 401 and (await resp.json())["error"] == "need_login"
    await login(raw_client)  # admins still get in
    sugar.faults.maintenance(False)
    assert (await raw_client.get(f"{API}/ping", headers={"OAuth-Token": token})).status == 200


async def test_latency(raw_client, sugar):
    import time

    sugar.faults.latency = 0.2
    started = time.monotonic()
    await raw_client.get(f"{API}/ping")
    assert time.monotonic() - started >= 0.2


async def test_drop_is_seen_as_disconnect_and_after_processing_still_writes():
    emu = SugarEmulator(accounts=0, contacts=0)
    runner, base = await start(emu.app)
    try:
        async with aiohttp.ClientSession(base) as session:
            body = await (await session.post(f"{API}/oauth2/token", json={
                "grant_type": "password", "client_id": "sugar", "username": "admin",
                "password": "admin"})).json()
            headers = {"OAuth-Token": body["access_token"]}
            emu.faults.drop(path=f"{API}/Accounts", method="POST")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(f"{API}/Accounts", json={"name": "lost"}, headers=headers)
            assert emu.store.all("Accounts") == []
            emu.faults.drop(after_processing=True, path=f"{API}/Accounts", method="POST")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(f"{API}/Accounts", json={"name": "kept"}, headers=headers)
            assert [r["name"] for r in emu.store.all("Accounts")] == ["kept"]
            assert [c.status for c in emu.log if c.method == "POST"][-2:] == [None, None]
    finally:
        await runner.cleanup()


async def test_faults_clear_and_pending(sugar):
    sugar.faults.fail(times=3)
    sugar.faults.latency = 1
    assert sugar.faults.pending == 3
    sugar.faults.clear()
    assert sugar.faults.pending == 0 and sugar.faults.latency == 0


async def test_create_app_and_call_counting(aiohttp_client):
    app = create_app("bob", "pw", accounts=3, contacts=0)
    emu = app[EMULATOR_KEY]
    client = await aiohttp_client(app)
    await login(client, "bob", "pw")
    await login(client, "bob", "pw")
    refused = await client.post(f"{API}/oauth2/token", json={
        "grant_type": "password", "client_id": "sugar", "client_secret": "",
        "username": "admin", "password": "admin", "platform": "base"})
    assert refused.status == 401  # given credentials replace the default user
    assert emu.calls("POST", f"{API}/oauth2/token") == 3
    emu.reset_log()
    assert emu.calls("POST", f"{API}/oauth2/token") == 0
    sugar_faults_expire = emu.faults.expire_tokens  # the style guide's spelling works too
    sugar_faults_expire()
