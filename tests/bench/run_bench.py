"""Benchmark: the same SugarCRM call direct, through a bare proxy, and through the gateway.

    python -m tests.bench.run_bench [--requests N] [--concurrency 32] [--rounds 5] [--profile]

Each server is its own process (``tests/bench/serve.py``) on a free loopback port: the SugarCRM
emulator, a bare aiohttp proxy in front of it, and the gateway run as deployed (``gateway
serve`` with the production logging at info, JSON lines written to ``.bench/gateway.log``).
The load generator is this process. Two scenarios:

* ``list``: direct/proxy ``POST /rest/v10/Accounts/filter`` (max_num = page size); gateway
  ``POST /v1/records/sugarcrm/Accounts/query`` with ``{"pageSize": N}``. The gateway also asks
  ``/count`` for ``totalSize``, so it makes two backend calls where the proxy makes one; the table
  shows the measured backend calls per request rather than hiding that.
* ``get``: one record by id, one backend call on every path: the like-for-like comparison.

Latency is measured at concurrency 1 (p50/p99), throughput at ``--concurrency``. After a warm-up,
each round interleaves the three legs (request by request for latency, in chunks for throughput),
so host noise hits them alike; ratios are paired within a round and the median over rounds is
reported, with every round's value shown. During the throughput chunks the CPU time of each
process is read from its CPU-time clock (to the nanosecond, every thread): ``cpu µs`` is what
one request cost the leg's front process (the emulator for direct), ``emu µs`` what it cost the
emulator. On a host with fewer cores than busy processes, req/s is shared CPU; the CPU ratio is
what the gateway costs per request whatever the rest of the host does, so it comes first.
Targets (issue 13), gateway/proxy: CPU per request ≤ 1.4 on both scenarios; throughput ≥ 0.80
and added latency ≤ 1.5 on get (on list they are shown, not held: the gateway makes two
backend calls there). The emulator keeps its orderings between calls, so it costs less per
request than either front process on both scenarios (``emu µs``) and is not what is measured.
``--profile`` samples the gateway process with py-spy (pyinstrument when py-spy is missing)
under the throughput load of each scenario, and writes the profiles next to the JSON result.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.bench.legs import GATEWAY_LOG, HELD_TO, ROOT, SCENARIOS, Setup, environment
from tests.bench.measure import LEGS, BenchError, cpu_seconds, measure_round, summarize, throughput

__all__ = ["main", "render", "run"]

PROFILE_RATE = 1000  # py-spy samples per second

# Where a sample's CPU goes: the leaf-most frame whose file matches names the component (so
# structlog called from the upstream client is logging, asyncio under the aiohttp client is the
# client). First match in this order wins for one frame.
COMPONENTS = (
    ("logging (structlog, redaction)", ("structlog/", "observability/logging", "redact.py")),
    ("metrics (prometheus)", ("prometheus_client/", "observability/metrics")),
    ("envelope / JSON", ("http/envelope", "orjson")),
    ("query engine", ("gateway/query/",)),
    ("connector (sugarcrm)", ("connectors/",)),
    ("upstream client", ("gateway/upstream/",)),
    ("gateway middlewares", ("http/middleware/",)),
    ("gateway handlers, sources", ("http/handlers/", "gateway/sources", "http/keys")),
    ("aiohttp client (backend calls)", ("aiohttp/client", "aiohttp/connector", "yarl/")),
    ("aiohttp routing", ("web_urldispatcher",)),
    # Not aiohttp/web.py (run_app is under everything) nor http_writer/http_parser (both sides
    # use them): those samples go to the caller's side.
    ("aiohttp server", ("aiohttp/web_protocol", "aiohttp/web_request", "aiohttp/web_response",
                        "aiohttp/web_app", "aiohttp/web_middlewares", "aiohttp/web_server")),
)


def _samples(raw: str) -> Iterator[tuple[list[str], int]]:
    """py-spy's collapsed stacks as (frames root first, count), without the samples taken while
    the loop waited in epoll: py-spy counts some of those as busy, and they cost no CPU."""
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(("EpollSelector.select", "select ")):
            continue
        yield frames, int(count)


def _component(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in COMPONENTS:
            if any(n in frame for n in needles):
                return name
    return "event loop, sockets"


def summarize_stacks(raw: str, us_per_sample: float, top: int = 40) -> str:
    """py-spy's collapsed stacks as two tables: inclusive (a frame anywhere in the stack) and
    self (the frame on top), in µs per request, so the profile reads as a cost per request."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    parts: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, n in _samples(raw):
        total += n
        own[frames[-1]] += n
        parts[_component(frames)] += n
        for frame in set(frames):
            inclusive[frame] += n
    out = [f"{total} samples; {us_per_sample * total:.0f} µs of CPU per request in all", ""]
    tables = (("by component", parts), ("inclusive", inclusive), ("self", own))
    for title, counter in tables:
        out.append(f"-- {title}: µs/request  share  frame")
        for frame, n in counter.most_common(top):
            out.append(f"{n * us_per_sample:9.1f}  {n / max(total, 1):6.1%}  {frame}")
        out.append("")
    return "\n".join(out)


def _by_component(raw: str, us_per_sample: float) -> dict[str, float]:
    parts: collections.Counter[str] = collections.Counter()
    for frames, n in _samples(raw):
        parts[_component(frames)] += n
    return {name: n * us_per_sample for name, n in parts.items()}


async def _py_spy(
    session: aiohttp.ClientSession, setup: Setup, args: argparse.Namespace, out: Path
) -> list[Path]:
    """Attach py-spy to the running proxy, then gateway, for each scenario's throughput load;
    per scenario a table of what each component costs per request in each, side by side."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    written: list[Path] = []
    n = max(args.requests * 3, 3000)
    for scenario in SCENARIOS:
        parts: dict[str, dict[str, float]] = {}
        for leg in ("proxy", "gateway"):
            server = setup.servers[leg]
            raw = out / f"profile-{leg}-{scenario}.raw.txt"
            spy = await asyncio.create_subprocess_exec(
                exe, "record", "--pid", str(server.pid), "--rate", str(PROFILE_RATE),
                "--format", "raw", "--output", str(raw), "--function",
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            await asyncio.sleep(1.0)  # py-spy attaches
            cpu0 = cpu_seconds(server.pid)
            await throughput(session, setup.calls[scenario, leg], n, args.concurrency)
            cpu_per_request = (cpu_seconds(server.pid) - cpu0) / n
            spy.send_signal(signal.SIGINT)
            _, err = await spy.communicate()
            if spy.returncode not in (0, -signal.SIGINT) or not raw.exists():
                print(f"--profile: py-spy failed: {err.decode(errors='replace')[-500:]}",
                      file=sys.stderr)
                continue
            text = raw.read_text()
            samples = sum(n for _, n in _samples(text))
            # Samples of a busy process spread its CPU time: each stands for this many µs.
            us_per_sample = cpu_per_request * 1e6 / samples if samples else 0.0
            summary = out / f"profile-{leg}-{scenario}.txt"
            summary.write_text(summarize_stacks(text, us_per_sample), encoding="utf-8")
            parts[leg] = _by_component(text, us_per_sample)
            written += [summary, raw]
            await setup.backend_calls(session)
        if len(parts) == 2:
            diff = out / f"profile-diff-{scenario}.txt"
            diff.write_text(_diff_table(scenario, parts["proxy"], parts["gateway"]))
            written.append(diff)
    return written


def _diff_table(scenario: str, proxy: dict[str, float], gateway: dict[str, float]) -> str:
    """CPU µs per request by component, proxy vs gateway (py-spy in blocking mode slows the
    sampled process a little: compare the columns, not against the measured rounds)."""
    rows = sorted(set(proxy) | set(gateway), key=lambda k: -(gateway.get(k, 0) - proxy.get(k, 0)))
    out = [f"[{scenario}] CPU µs per request by component (py-spy)",
           f"{'component':<34}{'proxy':>9}{'gateway':>9}{'diff':>9}"]
    for k in rows:
        p, g = proxy.get(k, 0.0), gateway.get(k, 0.0)
        out.append(f"{k:<34}{p:>9.1f}{g:>9.1f}{g - p:>+9.1f}")
    tp, tg = sum(proxy.values()), sum(gateway.values())
    out.append(f"{'total':<34}{tp:>9.1f}{tg:>9.1f}{tg - tp:>+9.1f}")
    return "\n".join(out) + "\n"


async def _pyinstrument(args: argparse.Namespace, out: Path) -> list[Path]:
    """No py-spy: a gateway started under pyinstrument per scenario, profile written on exit."""
    written: list[Path] = []
    for scenario in SCENARIOS:
        path = out / f"profile-gateway-{scenario}.html"
        args.pyinstrument_out = path
        async with environment(args) as (session, setup):
            call = setup.calls[scenario, "gateway"]
            await throughput(session, call, max(args.requests * 3, 3000), args.concurrency)
        written += [path, path.with_suffix(".txt")]
    args.pyinstrument_out = None
    return written


def _has_py_spy() -> bool:
    return bool(shutil.which("py-spy") or (Path(sys.executable).parent / "py-spy").exists())


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out).parent
    async with environment(args) as (session, setup):
        for scenario in SCENARIOS:  # warm-up: connections, token caches, code paths
            for leg in LEGS:
                await throughput(session, setup.calls[scenario, leg], args.warmup, args.concurrency)
        rounds: dict[str, list[dict[str, Any]]] = {s: [] for s in SCENARIOS}
        for n in range(args.rounds):
            for scenario in SCENARIOS:
                rounds[scenario].append(
                    await measure_round(
                        session,
                        {leg: setup.calls[scenario, leg] for leg in LEGS},
                        setup,
                        args.requests,
                        args.concurrency,
                        n,
                    )
                )
        result: dict[str, Any] = {
            "meta": _meta(args),
            "scenarios": {s: summarize(rounds[s], HELD_TO[s]) for s in SCENARIOS},
        }
        if args.profile and _has_py_spy():
            result["profiles"] = [str(p) for p in await _py_spy(session, setup, args, out)]
    if args.profile and not _has_py_spy():
        print("--profile: py-spy not found (pip install py-spy); using pyinstrument",
              file=sys.stderr)
        result["profiles"] = [str(p) for p in await _pyinstrument(args, out)]
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
        "cpus": args.cpus,
        "pinned": bool(args.pin),
        "gateway_log": str(GATEWAY_LOG),
        "log_level": args.log_level,
    }


# ---- report -----------------------------------------------------------------------------------


_LABELS = {
    "cpu_ratio": "CPU per request",
    "throughput_ratio": "throughput",
    "added_latency_ratio": "added latency",
}


def render(result: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = [
        f"recordgate bench @ {meta['commit'] or '?'}  python {meta['python']}  "
        f"aiohttp {meta['aiohttp']}  {meta['requests']} requests/leg/round  "
        f"concurrency {meta['concurrency']}  page size {meta['page_size']}  "
        f"median of {meta['rounds']} rounds",
        f"one process per server; {meta['cpus']} CPUs"
        + (" (proxy/gateway pinned to their own)" if meta["pinned"] else " (not pinned)")
        + f"; gateway logs at {meta['log_level']} to {meta['gateway_log']}",
    ]
    for scenario, summary in result["scenarios"].items():
        legs, ratios = summary["legs"], summary["ratios"]
        lines += [
            "",
            f"[{scenario}]",
            f"{'leg':<9}{'p50 ms':>9}{'p99 ms':>9}{'added ms':>10}"
            f"{'req/s @' + str(meta['concurrency']):>12}{'backend calls':>15}"
            f"{'cpu µs':>9}{'emu µs':>9}",
        ]
        for leg in LEGS:
            row = legs[leg]
            added = "" if leg == "direct" else f"{ratios[leg + '_added_ms']:.3f}"
            lines.append(
                f"{leg:<9}{row['p50_ms']:>9.3f}{row['p99_ms']:>9.3f}{added:>10}"
                f"{row['rps']:>12.0f}{row['backend_calls']:>15.2f}"
                f"{row['cpu_us']:>9.0f}{row['emulator_cpu_us']:>9.0f}"
            )
        for name, t in summary["targets"].items():  # CPU per request first
            verdict = ("PASS" if t["pass"] else "MISS") if t["held"] else "info"
            spread = " ".join(f"{r[name]:.2f}" for r in summary["per_round"])
            goal = f"target {t['target']}" if t["held"] else f"not held to {t['target']}"
            lines.append(
                f"{verdict}  {scenario}: gateway/proxy {_LABELS[name]} = {t['value']:.2f} "
                f"({goal}; rounds: {spread})"
            )
    for path in result.get("profiles", []):
        if "profile-diff-" in path:
            lines += ["", Path(path).read_text(encoding="utf-8").rstrip()]
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
        "--profile", action="store_true",
        help="profile the gateway process under load (py-spy; pyinstrument without it)",
    )
    p.add_argument(
        "--pin", action="store_true",
        help="pin proxy and gateway to the last CPU, client and emulator to the first",
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
    args.cpus = len(os.sched_getaffinity(0))  # before --pin narrows this process to one
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
