"""Timing the legs: interleaved rounds, nearest-rank percentiles, paired ratios, targets."""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp

__all__ = [
    "LEGS",
    "TARGETS",
    "TARGET_ADDED",
    "TARGET_CPU",
    "TARGET_THROUGHPUT",
    "BenchError",
    "Call",
    "Rig",
    "Sample",
    "cpu_seconds",
    "measure_round",
    "one",
    "percentile",
    "summarize",
    "throughput",
]

LEGS = ("direct", "proxy", "gateway")
TARGET_CPU = 1.4  # gateway CPU per request ÷ proxy CPU per request, at most
TARGET_THROUGHPUT = 0.80  # gateway req/s ÷ proxy req/s, at least
TARGET_ADDED = 1.5  # gateway added latency ÷ proxy added latency, at most
# Each ratio's target as (comparison, bound); which ones a scenario is held to: legs.SCENARIOS.
TARGETS = {
    "cpu_ratio": ("<=", TARGET_CPU),
    "throughput_ratio": (">=", TARGET_THROUGHPUT),
    "added_latency_ratio": ("<=", TARGET_ADDED),
}
_TICKS = os.sysconf("SC_CLK_TCK")


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
    cpu_us: float = 0.0  # the front process's CPU per request (the emulator's for direct)
    emulator_cpu_us: float = 0.0  # the emulator's CPU per request of this leg


class Rig(Protocol):
    """What a round needs of the running servers (``legs.Setup``)."""

    def front(self, leg: str) -> Any: ...  # has ``.pid``

    async def backend_calls(self, session: aiohttp.ClientSession) -> int: ...


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a latency some request actually had."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def one(session: aiohttp.ClientSession, call: Call) -> float:
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
            await one(session, call)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, every thread's (exited ones too).

    Read from the process's CPU-time clock (Linux: ``clock_gettime`` of the clock id
    ``MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)``), to the nanosecond; ``/proc/<pid>/stat``
    counts in clock ticks (10 ms), which is 25 µs a request over a 400-request chunk."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14, 15


async def measure_round(
    session: aiohttp.ClientSession,
    calls: Mapping[str, Call],
    rig: Rig,
    requests: int,
    concurrency: int,
    shift: int,
) -> dict[str, Sample]:
    """One round of one scenario, the legs interleaved so drift on the host hits them alike.

    Latency: request by request, d p g, p g d, g d p, ... Throughput: in chunks of a few hundred
    calls per leg, alternating legs, each leg's chunk times summed. During each chunk the CPU
    time of the leg's front process (the emulator for ``direct``) and of the emulator is read
    from ``/proc``, and the emulator's request count, so CPU and backend calls are per request
    whatever else the host was doing.
    """
    n = requests
    lat: dict[str, list[float]] = {leg: [] for leg in LEGS}
    for i in range(n):
        for k in range(3):
            leg = LEGS[(i + shift + k) % 3]
            lat[leg].append(await one(session, calls[leg]))
    await rig.backend_calls(session)  # restart the count: only the chunks below are counted
    chunk = max(250, concurrency * 8)
    spent, done = dict.fromkeys(LEGS, 0.0), dict.fromkeys(LEGS, 0)
    backend = dict.fromkeys(LEGS, 0)
    front_cpu, emu_cpu = dict.fromkeys(LEGS, 0.0), dict.fromkeys(LEGS, 0.0)
    emu_pid = rig.front("direct").pid
    while any(done[leg] < n for leg in LEGS):
        for k in range(3):
            leg = LEGS[(shift + k) % 3]
            size = min(chunk, n - done[leg])
            if size:
                pid = rig.front(leg).pid
                f0, e0 = cpu_seconds(pid), cpu_seconds(emu_pid)
                spent[leg] += await throughput(session, calls[leg], size, concurrency)
                front_cpu[leg] += cpu_seconds(pid) - f0
                emu_cpu[leg] += cpu_seconds(emu_pid) - e0
                done[leg] += size
                backend[leg] += await rig.backend_calls(session)
    return {
        leg: Sample(
            p50_ms=percentile(lat[leg], 0.50) * 1e3,
            p99_ms=percentile(lat[leg], 0.99) * 1e3,
            rps=n / spent[leg],
            backend_calls=backend[leg] / n,
            cpu_us=front_cpu[leg] / n * 1e6,
            emulator_cpu_us=emu_cpu[leg] / n * 1e6,
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
        # What a request costs the server in front, CPU only: the capacity ratio on a host
        # where the gateway has its cores to itself, whatever the load generator takes.
        "cpu_ratio": g.cpu_us / p.cpu_us if p.cpu_us > 0 else math.nan,
        # A proxy adding ≤ 0 (noise) leaves the ratio undefined rather than huge or negative.
        "added_latency_ratio": gateway_added / proxy_added if proxy_added > 0 else math.nan,
    }


def _median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def summarize(
    rounds: list[dict[str, Sample]], held_to: Collection[str] = tuple(TARGETS)
) -> dict[str, Any]:
    """Median over rounds of each leg's numbers and of the per-round (paired) ratios; each
    ratio of ``TARGETS`` against its target, ``held`` when the scenario is held to it (the
    others are shown for information)."""
    legs = {
        leg: {
            key: _median([getattr(r[leg], key) for r in rounds])
            for key in ("p50_ms", "p99_ms", "rps", "backend_calls", "cpu_us", "emulator_cpu_us")
        }
        for leg in LEGS
    }
    per_round = [_ratios(r) for r in rounds]
    ratios = {key: _median([r[key] for r in per_round]) for key in per_round[0]}
    targets = {}
    for name, (op, bound) in TARGETS.items():
        value = ratios[name]
        met = value >= bound if op == ">=" else value <= bound  # nan → False
        targets[name] = {
            "target": f"{op} {bound}",
            "value": value,
            "pass": met,
            "held": name in held_to,
        }
    return {
        "legs": legs,
        "ratios": ratios,
        "targets": targets,
        "rounds": len(rounds),
        "per_round": per_round,  # the spread, to judge how much the medians can be trusted
    }
