"""Benchmark: the same SugarCRM call direct, through a bare proxy, and through the gateway.

    python -m tests.bench.run_bench [--requests N] [--concurrency 32] [--page-size 20] [--profile]

Everything runs in this one process on loopback: the SugarCRM emulator, a bare aiohttp proxy in
front of it, and the gateway configured with the emulator as source ``sugarcrm``. Two scenarios:

* ``list``: direct/proxy ``POST /rest/v10/Accounts/filter`` (max_num = page size); gateway
  ``POST /v1/records/sugarcrm/Accounts/query`` with ``{"pageSize": N}``. The gateway also asks
  ``/count`` for ``totalSize``, so it makes two backend calls where the proxy makes one; the table
  shows the measured backend calls per request rather than hiding that.
* ``get``: one record by id, one backend call on every path: the like-for-like comparison.

Latency is measured at concurrency 1 (p50/p99), throughput at ``--concurrency``. After a warm-up,
each round interleaves the three legs (request by request for latency, in chunks for throughput),
so host noise hits them alike; ratios are paired within a round and the median over rounds is
reported, with every round's value shown.
Targets: gateway/proxy throughput ≥ 0.80, gateway/proxy added latency ≤ 1.5.
Ratios, never absolute timings: the client, the emulator and both servers share one CPU and loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.bench.proxy import make_proxy_app

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_LOG = ROOT / ".bench" / "gateway.log"
LEGS = ("direct", "proxy", "gateway")
SCENARIOS = ("list", "get")
TARGET_THROUGHPUT = 0.80  # gateway req/s ÷ proxy req/s, at least
TARGET_ADDED = 1.5  # gateway added latency ÷ proxy added latency, at most
ORG, API_KEY = "bench", "bench-key"
SUGAR_USER = SUGAR_PASSWORD = "admin"


class BenchError(RuntimeError):
    """A leg answered something other than what it is supposed to measure."""


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass
class Sample:
    p50_ms: float
    p99_ms: float
    rps: float
    backend_calls: float = 0.0


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


# ---- measuring --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a latency some request actually had."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def _one(session: aiohttp.ClientSession, call: Call) -> float:
    start = time.perf_counter()
    async with session.request(call.method, call.url, headers=call.headers, data=call.body) as r:
        await r.read()
        if r.status != 200:
            raise BenchError(f"{call.method} {call.url} → {r.status} during the run")
    return time.perf_counter() - start


async def throughput(session: aiohttp.ClientSession, call: Call, n: int, workers: int) -> float:
    """Seconds taken by ``n`` calls kept ``workers`` in flight."""
    left = iter(range(n))

    async def worker() -> None:
        for _ in left:  # one shared iterator: workers take the next call when they are free
            await _one(session, call)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - start


async def measure_round(
    session: aiohttp.ClientSession,
    setup: Setup,
    scenario: str,
    args: argparse.Namespace,
    shift: int,
) -> dict[str, Sample]:
    """One round of one scenario, the legs interleaved so drift on the host hits them alike.

    Latency: request by request, d p g, p g d, g d p, ... Throughput: in chunks of a few hundred
    calls per leg, alternating legs, each leg's chunk times summed.
    """
    n, log = args.requests, setup.emulator.log
    lat: dict[str, list[float]] = {leg: [] for leg in LEGS}
    backend: dict[str, int] = dict.fromkeys(LEGS, 0)
    setup.emulator.reset_log()
    for i in range(n):
        for k in range(3):
            leg = LEGS[(i + shift + k) % 3]
            lat[leg].append(await _one(session, setup.calls[scenario, leg]))
            backend[leg] += len(log)  # the gateway's backend calls finish before it answers
            setup.emulator.reset_log()  # the log keeps every call: keep it from growing
    chunk = max(250, args.concurrency * 8)
    spent, done = dict.fromkeys(LEGS, 0.0), dict.fromkeys(LEGS, 0)
    while any(done[leg] < n for leg in LEGS):
        for k in range(3):
            leg = LEGS[(shift + k) % 3]
            size = min(chunk, n - done[leg])
            if size:
                spent[leg] += await throughput(
                    session, setup.calls[scenario, leg], size, args.concurrency
                )
                done[leg] += size
                setup.emulator.reset_log()
    return {
        leg: Sample(
            p50_ms=percentile(lat[leg], 0.50) * 1e3,
            p99_ms=percentile(lat[leg], 0.99) * 1e3,
            rps=n / spent[leg],
            backend_calls=backend[leg] / n,
        )
        for leg in LEGS
    }


def _ratios(round_: dict[str, Sample]) -> dict[str, float]:
    d, p, g = round_["direct"], round_["proxy"], round_["gateway"]
    proxy_added, gateway_added = p.p50_ms - d.p50_ms, g.p50_ms - d.p50_ms
    return {
        "proxy_added_ms": proxy_added,
        "gateway_added_ms": gateway_added,
        "throughput_ratio": g.rps / p.rps,
        # A proxy adding ≤ 0 (noise) leaves the ratio undefined rather than huge or negative.
        "added_latency_ratio": gateway_added / proxy_added if proxy_added > 0 else math.nan,
    }


def _median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def summarize(rounds: list[dict[str, Sample]]) -> dict[str, Any]:
    """Median over rounds of each leg's numbers and of the per-round (paired) ratios."""
    legs = {
        leg: {
            key: _median([getattr(r[leg], key) for r in rounds])
            for key in ("p50_ms", "p99_ms", "rps", "backend_calls")
        }
        for leg in LEGS
    }
    per_round = [_ratios(r) for r in rounds]
    ratios = {key: _median([r[key] for r in per_round]) for key in per_round[0]}
    targets = {
        "throughput_ratio": {
            "target": f">= {TARGET_THROUGHPUT}",
            "value": ratios["throughput_ratio"],
            "pass": ratios["throughput_ratio"] >= TARGET_THROUGHPUT,
        },
        "added_latency_ratio": {
            "target": f"<= {TARGET_ADDED}",
            "value": ratios["added_latency_ratio"],
            "pass": ratios["added_latency_ratio"] <= TARGET_ADDED,  # nan → False
        },
    }
    return {
        "legs": legs,
        "ratios": ratios,
        "targets": targets,
        "rounds": len(rounds),
        "per_round": per_round,  # the spread, to judge how much the medians can be trusted
    }


async def _profile(
    session: aiohttp.ClientSession, setup: Setup, args: argparse.Namespace, out: Path
) -> list[Path]:
    """The gateway legs again, under pyinstrument, outside the measured rounds."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("--profile: pyinstrument is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return []
    written: list[Path] = []
    for scenario in SCENARIOS:
        # async_mode off: sample the whole thread, since every task (client, emulator, gateway)
        # shares this loop and the point is where the CPU goes.
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        with profiler:
            call = setup.calls[scenario, "gateway"]
            await throughput(session, call, max(args.requests, 2000), args.concurrency)
        setup.emulator.reset_log()
        for suffix, text in (
            ("html", profiler.output_html()),
            ("txt", profiler.output_text(unicode=True, color=False)),
        ):
            path = out / f"profile-gateway-{scenario}.{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with environment(args) as (session, setup):
        for scenario in SCENARIOS:  # warm-up: connections, token caches, code paths
            for leg in LEGS:
                await throughput(session, setup.calls[scenario, leg], args.warmup, args.concurrency)
        setup.emulator.reset_log()
        rounds: dict[str, list[dict[str, Sample]]] = {s: [] for s in SCENARIOS}
        for n in range(args.rounds):
            for scenario in SCENARIOS:
                rounds[scenario].append(await measure_round(session, setup, scenario, args, n))
        result: dict[str, Any] = {
            "meta": _meta(args),
            "scenarios": {s: summarize(rounds[s]) for s in SCENARIOS},
        }
        if args.profile:
            out = Path(args.out).parent
            result["profiles"] = [str(p) for p in await _profile(session, setup, args, out)]
        return result


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "page_size": args.page_size,
        "rounds": args.rounds,
        "warmup": args.warmup,
    }


# ---- report -----------------------------------------------------------------------------------


def render(result: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = [
        f"recordgate bench @ {meta['commit'] or '?'}  python {meta['python']}  "
        f"aiohttp {meta['aiohttp']}  {meta['requests']} requests/leg/round  "
        f"concurrency {meta['concurrency']}  page size {meta['page_size']}  "
        f"median of {meta['rounds']} rounds",
    ]
    for scenario, summary in result["scenarios"].items():
        legs, ratios = summary["legs"], summary["ratios"]
        lines += [
            "",
            f"[{scenario}]",
            f"{'leg':<9}{'p50 ms':>9}{'p99 ms':>9}{'added ms':>10}"
            f"{'req/s @' + str(meta['concurrency']):>12}{'backend calls':>15}",
        ]
        for leg in LEGS:
            row = legs[leg]
            added = "" if leg == "direct" else f"{ratios[leg + '_added_ms']:.3f}"
            lines.append(
                f"{leg:<9}{row['p50_ms']:>9.3f}{row['p99_ms']:>9.3f}{added:>10}"
                f"{row['rps']:>12.0f}{row['backend_calls']:>15.2f}"
            )
        for name, t in summary["targets"].items():
            verdict = "PASS" if t["pass"] else "MISS"
            spread = " ".join(f"{r[name]:.2f}" for r in summary["per_round"])
            lines.append(
                f"{verdict}  {scenario}: gateway/proxy {name} = {t['value']:.2f} "
                f"(target {t['target']}; rounds: {spread})"
            )
    for path in result.get("profiles", []):
        lines.append(f"profile: {path}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.run_bench", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--requests", type=int, default=1000, help="requests per leg per round (default 1000)"
    )
    p.add_argument(
        "--concurrency", type=int, default=32, help="in flight for throughput (default 32)"
    )
    p.add_argument("--page-size", type=int, default=20, help="records per list call (default 20)")
    p.add_argument(
        "--rounds", type=int, default=5, help="measured rounds, median taken (default 5)"
    )
    p.add_argument("--warmup", type=int, default=200, help="warm-up requests per leg (default 200)")
    p.add_argument(
        "--profile", action="store_true", help="profile the gateway legs with pyinstrument"
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help=f"gateway server.logLevel (default info, as deployed); lines go to {GATEWAY_LOG}",
    )
    p.add_argument("--out", default=str(ROOT / ".bench" / "last.json"), help="JSON result path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.requests < 100:
        # p99 of fewer than 100 samples is just the maximum.
        print("note: --requests below 100 makes p99 the slowest single request", file=sys.stderr)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    try:
        result = asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench aborted: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(_finite(result), indent=2, allow_nan=False))
    print(render(result))
    print(f"\nwritten: {args.out}")
    return 0


def _finite(value: Any) -> Any:
    """NaN (an undefined ratio) becomes null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())
