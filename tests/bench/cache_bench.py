"""Benchmark: a cached single-record read through the gateway vs the bare proxy's pass-through.

    python -m tests.bench.cache_bench [--requests N] [--concurrency 32] [--rounds 5] [--profile]

Issue 13 item 3 asks that a read answered from the gateway's cache cost less CPU than the bare
aiohttp proxy spends passing the same call through (target: at most 0.7 times). One run, side
by side, each server its own process as in ``run_bench.py`` (whose pieces this imports): the
SugarCRM emulator, the bare proxy (``tests/bench/proxy.py``) in front of it, and ``gateway
serve`` with production logging (JSON lines at info, to ``.bench/gateway-cache.log``) and
``cache: {ttl: 10m}`` on its Sugar source. Legs, all ``GET`` of one Account by id:

* ``proxy``: ``/rest/v10/Accounts/{id}`` through the proxy (one emulator call per request);
* ``cached``: ``/v1/records/sugarcrm/Accounts/{id}`` through the gateway, answered from its cache
  (the run checks it makes no emulator call);
* ``miss``: the same with ``Cache-Control: no-cache``: read from Sugar and kept again, what a
  read costs when the cache does not have it (context, not a target);
* ``floor``: a bare aiohttp app (no middleware, no work) answering the gateway's cached bytes
  with the same headers: what aiohttp alone costs per answer, the least a hit could cost.

Each round runs the legs in interleaved chunks at ``--concurrency`` and reads each front
process's CPU time from /proc around its chunks: ``cpu µs`` is CPU per request of the process
the leg talks to (the proxy or the gateway), ``emu µs`` the emulator's. The ratio is paired per
round; the median over rounds is reported with every round's value. ``--profile`` samples the
gateway with py-spy under the cached load and prints where its CPU goes per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from tests.bench import legs
from tests.bench.legs import ROOT, _ready, _seed, _sugar_token, free_port, stop_with
from tests.bench.measure import BenchError, Call, cpu_seconds, one, percentile, throughput
from tests.bench.run_bench import PROFILE_RATE, _samples, summarize_stacks
from tests.bench.serve import API_KEY, ORG, _serve_all, gateway_config

__all__ = ["main"]

LEGS = ("proxy", "cached", "miss", "floor")
TARGET = 0.7  # cached gateway CPU per request ÷ proxy CPU per request, at most
LOG = ROOT / ".bench" / "gateway-cache.log"


@dataclass
class Rig:
    calls: dict[str, Call]
    pids: dict[str, int]  # leg -> the process it talks to; "emulator" too
    control: str

    async def emulator_calls(self, session: aiohttp.ClientSession) -> int:
        async with session.get(f"{self.control}/calls") as r:
            return int((await r.json())["calls"])


def _cached_config(emulator: str, log_level: str) -> str:
    """``serve.py``'s bench gateway, with the read cache on its Sugar source."""
    config = yaml.safe_load(gateway_config(emulator, log_level))
    config["sources"]["sugarcrm"]["cache"] = {"ttl": "10m", "maxBytes": "16MiB"}
    return str(yaml.safe_dump(config, sort_keys=False))


def _static_app(body: bytes, headers: dict[str, str]) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    return app


def _serve_static(port: int, answer: Path) -> int:
    """``--serve-static PORT FILE``: the floor leg's server (FILE: the answer as JSON)."""
    from gateway.cli import loop_factory

    saved = json.loads(answer.read_text(encoding="utf-8"))
    app = _static_app(saved["body"].encode(), saved["headers"])
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the gateway's loop
        runner.run(_serve_all([(app, port)]))
    return 0


def _spawn(stack: AsyncExitStack, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    """``python *argv``, its stdout in ``.bench/<name>.log``, stopped (SIGINT, then killed
    after 5 s) when ``stack`` closes."""
    log = stack.enter_context((ROOT / ".bench" / f"{name}.log").open("wb"))
    err = stack.enter_context((ROOT / ".bench" / f"{name}.stderr").open("wb"))
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=log, stderr=err)
    stop_with(stack, proc)
    return proc


@asynccontextmanager
async def environment(args: argparse.Namespace) -> AsyncIterator[tuple[aiohttp.ClientSession,
                                                                         Rig]]:
    async with AsyncExitStack() as stack:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        session = await stack.enter_async_context(aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(100, args.concurrency * 2))))
        emu_port, control_port, proxy_port, gw_port = (free_port() for _ in range(4))
        emulator = f"http://127.0.0.1:{emu_port}"
        emu = legs._spawn(stack, "emulator", ["emulator", "--port", str(emu_port),
                                              "--control-port", str(control_port)],
                          subprocess.DEVNULL, None)
        prx = legs._spawn(stack, "proxy", ["proxy", "--port", str(proxy_port),
                                           "--upstream", emulator], subprocess.DEVNULL, None)
        config = LOG.with_name("gateway-cache.yaml")
        config.write_text(_cached_config(emulator, args.log_level), encoding="utf-8")
        gw = _spawn(stack, LOG.stem, ["-m", "gateway", "serve", "--config", str(config),
                                      "--port", str(gw_port)])
        control = f"http://127.0.0.1:{control_port}"
        proxy, gateway = f"http://127.0.0.1:{proxy_port}", f"http://127.0.0.1:{gw_port}"
        await _ready(session, "emulator", emu, f"{control}/calls")
        await _ready(session, "proxy", prx, f"{proxy}/rest/v10/ping")
        await _ready(session, "gateway-cache", gw, f"{gateway}/healthz")
        token = await _sugar_token(session, emulator)
        rid = await _seed(session, emulator, {"OAuth-Token": token,
                                              "Content-Type": "application/json"}, 200)
        ours = {"Authorization": f"Bearer {API_KEY}"}
        url = f"{gateway}/v1/records/sugarcrm/Accounts/{rid}?orgId={ORG}"
        calls = {
            "proxy": Call("GET", f"{proxy}/rest/v10/Accounts/{rid}", {"OAuth-Token": token}),
            "cached": Call("GET", url, ours),
            "miss": Call("GET", url, {**ours, "Cache-Control": "no-cache"}),
        }
        async with session.get(url, headers=ours) as r:  # the floor answers these bytes
            kept = {"body": (await r.read()).decode(), "headers": {
                h: r.headers[h] for h in ("Content-Type", "ETag", "Cache-Control", "Vary")}}
        answer = LOG.with_name("floor-answer.json")
        answer.write_text(json.dumps(kept), encoding="utf-8")
        floor_port = free_port()
        floor = _spawn(stack, "floor", ["-m", "tests.bench.cache_bench", "--serve-static",
                                        str(floor_port), str(answer)])
        await _ready(session, "floor", floor, f"http://127.0.0.1:{floor_port}/")
        calls["floor"] = Call("GET", f"http://127.0.0.1:{floor_port}/v1/records", ours)
        pids = {"proxy": prx.pid, "cached": gw.pid, "miss": gw.pid, "floor": floor.pid,
                "emulator": emu.pid}
        yield session, Rig(calls, pids, control)


async def _check(session: aiohttp.ClientSession, rig: Rig) -> None:
    """The legs answer the same record, and a cached read makes no backend call."""
    async with session.get(rig.calls["proxy"].url, headers=rig.calls["proxy"].headers) as r:
        direct = await r.json()
    for leg in ("miss", "cached"):
        call = rig.calls[leg]
        async with session.get(call.url, headers=call.headers) as r:
            got = await r.json()
            if r.status != 200 or got["data"]["id"] != direct["id"]:
                raise BenchError(f"{leg}: {r.status} {str(got)[:300]}")
            if leg == "cached" and not r.headers.get("Cache-Control", "").startswith(
                    "private, max-age="):
                raise BenchError(f"the gateway does not cache: {dict(r.headers)}")
    await rig.emulator_calls(session)
    await throughput(session, rig.calls["cached"], 200, 8)
    if (n := await rig.emulator_calls(session)) != 0:
        raise BenchError(f"200 cached reads made {n} backend calls")


async def _round(session: aiohttp.ClientSession, rig: Rig, args: argparse.Namespace,
                 shift: int) -> dict[str, dict[str, float]]:
    n, chunk = args.requests, max(250, args.concurrency * 8)
    latency: dict[str, list[float]] = {leg: [] for leg in LEGS}
    for i in range(min(n, 300)):  # p50 at concurrency 1, legs interleaved
        for k in range(len(LEGS)):
            leg = LEGS[(i + shift + k) % len(LEGS)]
            latency[leg].append(await one(session, rig.calls[leg]))
    await rig.emulator_calls(session)
    done = dict.fromkeys(LEGS, 0)
    cpu, emu, spent = dict.fromkeys(LEGS, 0.0), dict.fromkeys(LEGS, 0.0), dict.fromkeys(LEGS, 0.0)
    backend = dict.fromkeys(LEGS, 0)
    while any(done[leg] < n for leg in LEGS):
        for k in range(len(LEGS)):
            leg = LEGS[(shift + k) % len(LEGS)]
            size = min(chunk, n - done[leg])
            if not size:
                continue
            pid, emu_pid = rig.pids[leg], rig.pids["emulator"]
            c0, e0 = cpu_seconds(pid), cpu_seconds(emu_pid)
            spent[leg] += await throughput(session, rig.calls[leg], size, args.concurrency)
            cpu[leg] += cpu_seconds(pid) - c0
            emu[leg] += cpu_seconds(emu_pid) - e0
            backend[leg] += await rig.emulator_calls(session)
            done[leg] += size
    return {leg: {"cpu_us": cpu[leg] / n * 1e6, "emu_us": emu[leg] / n * 1e6,
                  "rps": n / spent[leg], "p50_ms": percentile(latency[leg], 0.5) * 1e3,
                  "backend_calls": backend[leg] / n} for leg in LEGS}


async def _profile(session: aiohttp.ClientSession, rig: Rig, args: argparse.Namespace) -> str:
    exe = str(Path(sys.executable).parent / "py-spy")
    raw = ROOT / ".bench" / "profile-gateway-cached.raw.txt"
    spy = await asyncio.create_subprocess_exec(
        exe, "record", "--pid", str(rig.pids["cached"]), "--rate", str(PROFILE_RATE),
        "--format", "raw", "--output", str(raw), "--function",
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    await asyncio.sleep(1.0)  # py-spy attaches
    n = max(args.requests * 3, 6000)
    c0 = cpu_seconds(rig.pids["cached"])
    await throughput(session, rig.calls["cached"], n, args.concurrency)
    per_request = (cpu_seconds(rig.pids["cached"]) - c0) / n
    spy.send_signal(signal.SIGINT)
    _, err = await spy.communicate()
    if not raw.exists():
        return f"py-spy failed: {err.decode(errors='replace')[-500:]}"
    text = raw.read_text()
    samples = sum(count for _, count in _samples(text))
    summary = summarize_stacks(text, per_request * 1e6 / samples if samples else 0.0, top=30)
    out = raw.with_name("profile-gateway-cached.txt")
    out.write_text(summary, encoding="utf-8")
    return f"profile (py-spy, cached leg; also {out}):\n{summary}"


async def run(args: argparse.Namespace) -> dict[str, object]:
    async with environment(args) as (session, rig):
        await _check(session, rig)
        for leg in LEGS:  # warm-up
            await throughput(session, rig.calls[leg], args.warmup, args.concurrency)
        rounds = [await _round(session, rig, args, i) for i in range(args.rounds)]
        profile = await _profile(session, rig, args) if args.profile else None
    ratios = [r["cached"]["cpu_us"] / r["proxy"]["cpu_us"] for r in rounds]
    miss = [r["miss"]["cpu_us"] / r["proxy"]["cpu_us"] for r in rounds]
    floor = [r["floor"]["cpu_us"] / r["proxy"]["cpu_us"] for r in rounds]
    median = {leg: {k: statistics.median(r[leg][k] for r in rounds) for k in rounds[0][leg]}
              for leg in LEGS}
    return {"rounds": rounds, "median": median, "cached_ratio": statistics.median(ratios),
            "cached_ratios": ratios, "miss_ratio": statistics.median(miss), "miss_ratios": miss,
            "floor_ratio": statistics.median(floor), "floor_ratios": floor, "profile": profile}


def render(result: dict[str, object], args: argparse.Namespace) -> str:
    median = result["median"]
    assert isinstance(median, dict)
    lines = [f"cached read vs bare proxy: {args.requests} requests/leg/round, concurrency "
             f"{args.concurrency}, median of {args.rounds} rounds, "
             f"{len(os.sched_getaffinity(0))} CPUs (load {os.getloadavg()[0]:.1f})",
             f"{'leg':<8}{'cpu µs':>9}{'emu µs':>9}{'req/s':>9}{'p50 ms':>9}{'backend':>9}"]
    for leg in LEGS:
        row = median[leg]
        lines.append(f"{leg:<8}{row['cpu_us']:>9.0f}{row['emu_us']:>9.0f}{row['rps']:>9.0f}"
                     f"{row['p50_ms']:>9.3f}{row['backend_calls']:>9.2f}")
    ratio = result["cached_ratio"]
    assert isinstance(ratio, float)
    spread = " ".join(f"{r:.2f}" for r in result["cached_ratios"])  # type: ignore[attr-defined]
    miss = " ".join(f"{r:.2f}" for r in result["miss_ratios"])  # type: ignore[attr-defined]
    lines.append(f"{'PASS' if ratio <= TARGET else 'MISS'}  cached gateway / proxy CPU per "
                 f"request = {ratio:.2f} (target <= {TARGET}; rounds: {spread})")
    lines.append(f"info  miss (no-cache) gateway / proxy CPU per request = "
                 f"{result['miss_ratio']:.2f} (rounds: {miss})")
    floor = " ".join(f"{r:.2f}" for r in result["floor_ratios"])  # type: ignore[attr-defined]
    lines.append(f"info  floor (bare aiohttp, same answer) / proxy CPU per request = "
                 f"{result['floor_ratio']:.2f} (rounds: {floor})")
    if result.get("profile"):
        lines += ["", str(result["profile"])]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.bench.cache_bench",
                                description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=2000, help="per leg per round (2000)")
    p.add_argument("--concurrency", type=int, default=32, help="in flight (32)")
    p.add_argument("--rounds", type=int, default=5, help="measured rounds (5)")
    p.add_argument("--warmup", type=int, default=500, help="warm-up requests per leg (500)")
    p.add_argument("--profile", action="store_true", help="py-spy the gateway's cached leg")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                   help="the gateway's server.logLevel (info, as deployed: one access line "
                   "per request)")
    p.add_argument("--out", default=str(ROOT / ".bench" / "cache.json"), help="JSON result")
    p.add_argument("--serve-static", nargs=2, metavar=("PORT", "ANSWER"), help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.serve_static:
        return _serve_static(int(args.serve_static[0]), Path(args.serve_static[1]))
    try:
        result = asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench aborted: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps({k: v for k, v in result.items() if k != "profile"},
                                         indent=2))
    print(render(result, args))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
