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
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.bench.legs import GATEWAY_LOG, SCENARIOS, Setup, environment
from tests.bench.measure import LEGS, BenchError, Sample, measure_round, summarize, throughput

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parents[2]


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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with environment(args) as (session, setup):
        for scenario in SCENARIOS:  # warm-up: connections, token caches, code paths
            for leg in LEGS:
                await throughput(session, setup.calls[scenario, leg], args.warmup, args.concurrency)
        setup.emulator.reset_log()
        rounds: dict[str, list[dict[str, Sample]]] = {s: [] for s in SCENARIOS}
        for n in range(args.rounds):
            for scenario in SCENARIOS:
                rounds[scenario].append(
                    await measure_round(
                        session,
                        {leg: setup.calls[scenario, leg] for leg in LEGS},
                        setup.emulator,
                        args.requests,
                        args.concurrency,
                        n,
                    )
                )
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
