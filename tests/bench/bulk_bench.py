"""Benchmark: 1,000 Data Service creates through one /v1/bulk versus 1,000 single creates.

    python -m tests.bench.bulk_bench [--creates 1000] [--concurrency 32] [--rounds 3]

The Data Service emulator and the gateway each run in their own process on loopback ports, as
deployed (the gateway with its production logging at info, JSON lines to
``.bench/bulk_gateway.log``); this process is the client. Each round creates ``--creates``
records three ways: one bulk call (coalesced into ``insert-batch`` calls of at most 1,000),
the same creates one by one, and one by one with ``--concurrency`` in flight. Wall times are
medians over rounds; the backend calls of each leg are counted by the emulator process.
Target: single (sequential) / bulk >= 10x.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from tests.bench.legs import free_port

__all__ = ["main", "render", "run"]

ORG = "acme"
AUTH = {"Authorization": "Bearer bench-key"}
TARGET = 10.0
ROOT = Path(__file__).resolve().parents[2]


def _emulator_process(port: int, control_port: int) -> None:
    from connectors.dataservice.emulator import DataServiceEmulator

    emu = DataServiceEmulator()

    async def calls(_: web.Request) -> web.Response:
        return web.json_response({"calls": len(emu.log)})

    async def serve() -> None:
        control = web.Application()
        control.router.add_get("/calls", calls)
        runners = [web.AppRunner(emu.app, access_log=None), web.AppRunner(control)]
        for runner, p in zip(runners, (port, control_port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", p).start()
        await asyncio.Event().wait()

    asyncio.run(serve())


def _gateway_process(port: int, emulator_port: int, creates: int) -> None:
    from gateway.config.load import load_config_text
    from gateway.http.app import create_app

    (ROOT / ".bench").mkdir(exist_ok=True)
    log = os.open(ROOT / ".bench" / "bulk_gateway.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 1)  # stdout is where production logging writes, as to a container's log driver
    origin = f"http://127.0.0.1:{emulator_port}"
    config = load_config_text(f"""
server: {{host: 127.0.0.1, port: {port}, logLevel: info, maxBulkRequests: {max(creates, 1000)}}}
consumers:
  - name: bench
    apiKey: bench-key
    orgs: [{ORG}]
    # The bench measures the gateway's own work: the consumer budgets (200 backend calls a
    # second by default) would turn its 3,000 creates a round into 429s, not a measurement.
    budgets: {{backendCallsPerSecond: 1000000, backendCallsBurst: 1000000,
              bulkEntriesPerMinute: 1000000}}
sources:
  ds:
    type: dataservice
    baseUrl: {origin}/acme/DefaultTenant
    auth: {{tokenUrl: {origin}/identity_/connect/token, clientId: recordgate,
           clientSecret: recordgate-secret,
           scope: "DataService.Data.Read DataService.Data.Write DataService.Schema.Read"}}
""", "bench.yaml", env={})
    web.run_app(create_app(config), host="127.0.0.1", port=port, access_log=None,
                print=None)


async def _wait(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(url) as resp:
                await resp.read()
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not answer within 10 s")


def _record(leg: str, i: int) -> dict[str, Any]:
    return {"Name": f"Bench {leg} {i}", "Country": "Kenya", "Age": 20 + i % 30}


async def _bulk(session: aiohttp.ClientSession, url: str, n: int) -> None:
    body = {"requests": [{"url": "/v1/records/ds/Athletes", "method": "POST",
                          "data": _record("bulk", i)} for i in range(n)]}
    # orjson on the client too: the bench measures the gateway, not the client's JSON library.
    async with session.post(f"{url}/v1/bulk", params={"orgId": ORG}, data=orjson.dumps(body),
                            headers={**AUTH, "Content-Type": "application/json"}) as resp:
        got = orjson.loads(await resp.read())
    if resp.status != 200 or any(e["status"] != 201 for e in got):
        raise SystemExit(f"bulk failed: {resp.status} {str(got)[:300]}")


async def _single(session: aiohttp.ClientSession, url: str, leg: str, i: int) -> None:
    async with session.post(f"{url}/v1/records/ds/Athletes", params={"orgId": ORG},
                            json=_record(leg, i), headers=AUTH) as resp:
        if resp.status != 201:
            raise SystemExit(f"single create failed: {resp.status} {await resp.text()}")


async def _singles(session: aiohttp.ClientSession, url: str, n: int, concurrency: int) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            await _single(session, url, f"c{concurrency}", i)

    await asyncio.gather(*(one(i) for i in range(n)))


async def run(creates: int, concurrency: int, rounds: int) -> dict[str, Any]:
    emu_port, control_port, gw_port = free_port(), free_port(), free_port()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_emulator_process, args=(emu_port, control_port), daemon=True),
             ctx.Process(target=_gateway_process, args=(gw_port, emu_port, creates),
                         daemon=True)]
    for proc in procs:
        proc.start()
    url = f"http://127.0.0.1:{gw_port}"
    legs = {"bulk": lambda s: _bulk(s, url, creates),
            "single": lambda s: _singles(s, url, creates, 1),
            f"single x{concurrency}": lambda s: _singles(s, url, creates, concurrency)}
    times: dict[str, list[float]] = {name: [] for name in legs}
    calls: dict[str, int] = {}
    try:
        async with aiohttp.ClientSession() as session:
            await _wait(session, f"http://127.0.0.1:{control_port}/calls")
            await _wait(session, f"{url}/healthz")

            async def backend_calls() -> int:
                async with session.get(f"http://127.0.0.1:{control_port}/calls") as resp:
                    return int((await resp.json())["calls"])

            await _single(session, url, "warm", 0)  # token and entity metadata fetched
            await _bulk(session, url, 10)
            for _ in range(rounds):
                for name, leg in legs.items():
                    mark = await backend_calls()
                    started = time.perf_counter()
                    await leg(session)
                    times[name].append(time.perf_counter() - started)
                    calls[name] = await backend_calls() - mark
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(5)
    return {"creates": creates, "rounds": rounds,
            "seconds": {k: statistics.median(v) for k, v in times.items()},
            "backend_calls": calls}


def render(result: dict[str, Any]) -> str:
    secs, calls = result["seconds"], result["backend_calls"]
    bulk = secs["bulk"]
    lines = [f"{result['creates']} Data Service creates through the gateway "
             f"(median of {result['rounds']} rounds)",
             f"{'leg':<14}{'wall s':>10}{'creates/s':>12}{'backend calls':>15}{'vs bulk':>10}"]
    for name, s in secs.items():
        lines.append(f"{name:<14}{s:>10.3f}{result['creates'] / s:>12.0f}{calls[name]:>15}"
                     f"{s / bulk:>9.1f}x")
    ratio = secs["single"] / bulk
    verdict = "meets" if ratio >= TARGET else "MISSES"
    lines.append(f"ratio single/bulk = {ratio:.1f}x ({verdict} the >= {TARGET:.0f}x target)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(render(asyncio.run(run(args.creates, args.concurrency, args.rounds))))


if __name__ == "__main__":
    main()
