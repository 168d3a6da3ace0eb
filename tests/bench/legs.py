"""The servers under test (Sugar emulator, bare proxy, gateway) and the calls each leg makes."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.bench.measure import LEGS, BenchError, Call
from tests.bench.proxy import make_proxy_app

__all__ = ["GATEWAY_LOG", "SCENARIOS", "Setup", "environment", "gateway_config"]

GATEWAY_LOG = Path(__file__).resolve().parents[2] / ".bench" / "gateway.log"
SCENARIOS = ("list", "get")
ORG, API_KEY = "bench", "bench-key"
SUGAR_USER = SUGAR_PASSWORD = "admin"


@dataclass
class Setup:
    calls: dict[tuple[str, str], Call]  # (scenario, leg) -> call
    emulator: Any  # the SugarEmulator: its request log counts backend calls per leg


# ---- servers ----------------------------------------------------------------------------------


async def _serve(stack: AsyncExitStack, app: web.Application) -> str:
    """Run ``app`` on a loopback port until ``stack`` closes; its base URL."""
    runner = web.AppRunner(app, access_log=None)  # nobody's access log is part of the measure
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


async def _start_emulator(stack: AsyncExitStack, emulators: list[Any]) -> str:
    """The SugarCRM emulator on loopback (appended to ``emulators``); its origin."""
    from connectors.emulation.server import start
    from connectors.sugarcrm.emulator import SugarEmulator

    emulator = SugarEmulator(users={SUGAR_USER: SUGAR_PASSWORD})
    emulators.append(emulator)
    runner, base_url = await start(emulator.app)
    stack.push_async_callback(runner.cleanup)
    return str(base_url).rstrip("/").removesuffix("/rest/v10")


def gateway_config(emulator_origin: str, log_level: str = "info") -> str:
    return f"""
server: {{host: 127.0.0.1, port: 0, logLevel: {log_level}}}
consumers:
  - {{name: bench, apiKey: {API_KEY}, orgs: [{ORG}]}}
sources:
  sugarcrm:
    type: sugarcrm
    baseUrl: {emulator_origin}/rest/v10
    timeout: 30
    retries: 0
    auth: {{username: {SUGAR_USER}, password: {SUGAR_PASSWORD}, clientId: sugar,
            clientSecret: "", platform: base}}
"""


async def _start_gateway(stack: AsyncExitStack, emulator_origin: str, log_level: str) -> str:
    from gateway.config.load import load_config_text
    from gateway.http.app import create_app
    from gateway.observability.logging import configure_logging
    from gateway.observability.redact import Redactor

    config = load_config_text(gateway_config(emulator_origin, log_level), "<bench>", env={})
    # Logged as in production (JSON lines, one access line per request at info), but to a file,
    # so writing them is part of the cost while the table stays readable.
    sink = stack.enter_context(GATEWAY_LOG.open("wb"))
    redactor = Redactor()
    configure_logging(config.server.logLevel, redactor, stream=sink)
    return await _serve(stack, create_app(config, redactor=redactor, configure_logs=False))


# ---- calls ------------------------------------------------------------------------------------


async def _json(session: aiohttp.ClientSession, call: Call) -> Any:
    async with session.request(call.method, call.url, headers=call.headers, data=call.body) as r:
        text = await r.text()
        if r.status != 200:
            raise BenchError(f"{call.method} {call.url} → {r.status}: {text[:500]}")
        return json.loads(text)


async def _sugar_token(session: aiohttp.ClientSession, origin: str) -> str:
    # Its own platform: Sugar keeps one session per user and platform, and the gateway uses base.
    body = {
        "grant_type": "password",
        "client_id": "sugar",
        "client_secret": "",
        "username": SUGAR_USER,
        "password": SUGAR_PASSWORD,
        "platform": "opi",
    }
    answer = await _json(
        session,
        Call("POST", f"{origin}/rest/v10/oauth2/token", {}, json.dumps(body).encode()),
    )
    return str(answer["access_token"])


async def _seed(
    session: aiohttp.ClientSession, origin: str, headers: dict[str, str], n: int
) -> str:
    """Make sure the emulator holds at least ``n`` Accounts; the id of one of them."""
    count = await _json(session, Call("GET", f"{origin}/rest/v10/Accounts/count", headers))
    for i in range(int(count["record_count"]), n):
        record = {"name": f"Bench Account {i:05d}", "industry": "Energy", "employees": str(i)}
        await _json(
            session,
            Call("POST", f"{origin}/rest/v10/Accounts", headers, json.dumps(record).encode()),
        )
    page = await _json(
        session,
        Call("POST", f"{origin}/rest/v10/Accounts/filter", headers, b'{"max_num": 1}'),
    )
    return str(page["records"][0]["id"])


def _calls(
    emulator: str, proxy: str, gateway: str, token: str, record_id: str, page_size: int
) -> dict[tuple[str, str], Call]:
    sugar = {"OAuth-Token": token, "Content-Type": "application/json"}
    ours = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    sugar_list = json.dumps({"max_num": page_size}).encode()
    calls: dict[tuple[str, str], Call] = {}
    for leg, origin in (("direct", emulator), ("proxy", proxy)):
        calls["list", leg] = Call("POST", f"{origin}/rest/v10/Accounts/filter", sugar, sugar_list)
        calls["get", leg] = Call("GET", f"{origin}/rest/v10/Accounts/{record_id}", sugar)
    records = f"{gateway}/v1/records/sugarcrm/Accounts"
    calls["list", "gateway"] = Call(
        "POST", f"{records}/query?orgId={ORG}", ours, json.dumps({"pageSize": page_size}).encode()
    )
    calls["get", "gateway"] = Call("GET", f"{records}/{record_id}?orgId={ORG}", ours)
    return calls


async def _check(session: aiohttp.ClientSession, setup: Setup, page_size: int, rid: str) -> None:
    """Every leg must answer the real thing before it is timed."""
    for leg in LEGS:
        got = await _json(session, setup.calls["list", leg])
        records = got["data"] if leg == "gateway" else got["records"]
        if len(records) != page_size:
            raise BenchError(f"list via {leg}: {len(records)} records, wanted {page_size}")
        got = await _json(session, setup.calls["get", leg])
        record = got["data"] if leg == "gateway" else got
        if record.get("id") != rid:
            raise BenchError(f"get via {leg}: answered id {record.get('id')!r}, wanted {rid!r}")


@asynccontextmanager
async def environment(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[aiohttp.ClientSession, Setup]]:
    """Emulator, proxy, gateway and the client session, all on this loop; torn down on exit."""
    async with AsyncExitStack() as stack:
        emulators: list[Any] = []
        emulator = await _start_emulator(stack, emulators)
        proxy = await _serve(stack, make_proxy_app(emulator))
        gateway = await _start_gateway(stack, emulator, args.log_level)
        session = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(100, args.concurrency * 2))
            )
        )
        token = await _sugar_token(session, emulator)
        sugar = {"OAuth-Token": token, "Content-Type": "application/json"}
        rid = await _seed(session, emulator, sugar, max(200, args.page_size * 5))
        setup = Setup(_calls(emulator, proxy, gateway, token, rid, args.page_size), emulators[0])
        await _check(session, setup, args.page_size, rid)
        yield session, setup
