"""Data Service emulator: every shared fault knob, with the service's own error bodies."""

from __future__ import annotations

import time

import aiohttp
import pytest

from connectors.dataservice.emulator import DataServiceEmulator
from connectors.emulation.server import start
from tests.fidelity.dataservice.conftest import API, TOKEN, get_token

READ = f"{API}/EntityService/Olympics/read"


async def test_fail_matches_path_and_method_with_service_body(api, ds):
    ds.faults.fail(502, times=2, path=READ, method="GET")
    assert (await api("GET", "/EntityService/Athletes/read"))[0] == 200
    for _ in range(2):
        status, body = await api("GET", "/EntityService/Olympics/read")
        assert status == 502 and body["error"] == "Bad Gateway" and body["traceId"]
    assert (await api("GET", "/EntityService/Olympics/read"))[0] == 200
    assert [c.status for c in ds.log if c.path == READ] == [502, 502, 200]
    assert ds.calls("GET", READ) == 3


async def test_rate_limit_has_retry_after(api, ds):
    ds.faults.rate_limit(retry_after=3, path=f"{API}/EntityService/*")
    status, body = await api("GET", "/EntityService/Olympics/read")
    assert status == 429 and body["error"] == "Too Many Requests"
    assert ds.log[-1].status == 429


async def test_rate_limit_header(raw_client, ds):
    token = (await get_token(raw_client))["access_token"]
    ds.faults.rate_limit(retry_after=2)
    resp = await raw_client.get(READ, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 429 and resp.headers["Retry-After"] == "2"


async def test_malformed_body(raw_client, ds):
    token = (await get_token(raw_client))["access_token"]
    ds.faults.malformed(path=READ)
    resp = await raw_client.get(READ, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    with pytest.raises(ValueError):
        await resp.json()


async def test_maintenance_spares_identity(raw_client, ds):
    token = (await get_token(raw_client))["access_token"]
    ds.faults.maintenance(True)
    resp = await raw_client.get(READ, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert (await resp.json())["error"] == "Service Unavailable"
    await get_token(raw_client)  # the token endpoint still answers
    ds.faults.maintenance(False)
    assert (await raw_client.get(READ, headers={"Authorization": f"Bearer {token}"})).status == 200


async def test_latency(api, ds):
    ds.faults.latency = 0.2
    started = time.monotonic()
    await api("GET", "/EntityService/Olympics/read?limit=1")
    assert time.monotonic() - started >= 0.2


async def test_expire_tokens_via_faults(api, ds):
    ds.faults.expire_tokens()
    status, body = await api("GET", "/EntityService/Olympics/read")
    assert status == 401 and body["error"].startswith("You are not authenticated")


async def test_drop_and_drop_after_processing():
    emu = DataServiceEmulator(olympics=0, athletes=0)
    runner, base = await start(emu.app)
    try:
        async with aiohttp.ClientSession(base) as session:
            body = await (await session.post(TOKEN, data={
                "grant_type": "client_credentials", "client_id": "recordgate",
                "client_secret": "recordgate-secret"})).json()
            headers = {"Authorization": f"Bearer {body['access_token']}"}
            insert = f"{API}/EntityService/Olympics/insert"
            emu.faults.drop(path=insert, method="POST")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(insert, json={"Name": "lost"}, headers=headers)
            assert emu.store.all("Olympics") == []
            emu.faults.drop(after_processing=True, path=insert, method="POST")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(insert, json={"Name": "kept"}, headers=headers)
            assert [r["Name"] for r in emu.store.all("Olympics")] == ["kept"]
            assert [c.status for c in emu.log if c.path == insert] == [None, None]
            emu.reset_log()
            assert emu.calls("POST", insert) == 0
    finally:
        await runner.cleanup()
