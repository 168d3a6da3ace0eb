"""`gateway demo`: every emulator plus the gateway, queried end to end as a new user would."""

from __future__ import annotations

import importlib
import signal

import aiohttp
import pytest

from gateway.demo import DEMO_KEY, start_demo


def importable(ref: str) -> bool:
    """``module:attr`` imports (a colleague's part may not have landed yet)."""
    module, _, attr = ref.partition(":")
    try:
        return hasattr(importlib.import_module(module), attr)
    except ImportError:
        return False


pytestmark = pytest.mark.skipif(
    not importable("gateway.http.app:create_app")
    or not importable("connectors.sugarcrm.emulator:create_app"),
    reason="the demo needs gateway.http.app and the SugarCRM emulator, not landed yet",
)

QUERY = "/v1/records/sugarcrm/Accounts/query?orgId=demo"
HEADERS = {"Authorization": f"Bearer {DEMO_KEY}"}


async def test_demo_answers_a_query_on_sugarcrm():
    demo = await start_demo("127.0.0.1", 0)
    try:
        assert "sugarcrm" in demo.emulators
        async with aiohttp.ClientSession() as session:
            async with session.post(demo.url + QUERY, json={"pageSize": 5}, headers=HEADERS) as r:
                assert r.status == 200, await r.text()
                body = await r.json()
            assert 1 <= len(body["data"]) <= 5
            async with session.post(demo.url + QUERY, json={"pageSize": 5}) as r:
                assert r.status == 401  # the demo still wants its key
    finally:
        await demo.close()


async def test_demo_close_stops_everything():
    demo = await start_demo("127.0.0.1", 0)
    await demo.close()
    async with aiohttp.ClientSession() as session:
        for url in [demo.url, *demo.emulators.values()]:
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.get(url + "/")


def test_demo_command_prints_a_working_curl(spawn, free_port, wait_listening):
    proc = spawn("demo", "--port", str(free_port))
    wait_listening(proc, free_port)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert (
        f"curl -s -X POST 'http://127.0.0.1:{free_port}{QUERY}' "
        "-H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' "
        "-d '{\"pageSize\": 5}'"
    ) in out
