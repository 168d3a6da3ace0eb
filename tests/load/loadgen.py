"""The load test's parts: reach a demo emulator's faults, fire a burst, and sum up the answers.

Shared by ``python -m tests.load.run`` (the full run, by hand) and the small pytest version.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from gateway.demo import DEMO_KEY, DEMO_ORG, DemoHandle

__all__ = [
    "DESIGNED",
    "ENTITIES",
    "Burst",
    "Result",
    "emulator_faults",
    "fire",
    "percentile",
    "table",
]

# The answers a gateway under load is designed to give besides 200: shed (429), unavailable or
# its breaker open (503), out of time (504). Anything else is a failure of the test.
DESIGNED = frozenset({200, 429, 503, 504})
ENTITIES = {"sugarcrm": "Accounts", "slingr": "companies", "dataservice": "Olympics"}


def emulator_faults(demo: DemoHandle, type_name: str) -> Any:
    """The ``Faults`` of the demo's emulator for ``type_name`` (latency, failures...). Each
    emulator app holds its emulator under its own AppKey; the demo keeps the apps in its
    runners, which is where a test that runs the demo in-process can reach them."""
    key = importlib.import_module(f"connectors.{type_name}.emulator.app").EMULATOR_KEY
    for runner in demo._runners:  # the demo's own runners: test code may look inside
        if key in runner.app:
            return runner.app[key].faults
    raise LookupError(f"the demo runs no {type_name} emulator")


@dataclass
class Result:
    source: str
    status: int  # 0: no HTTP answer (connection error or client timeout)
    seconds: float
    error: str | None = None


@dataclass
class Burst:
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def statuses(self, source: str | None = None) -> Counter[int]:
        return Counter(r.status for r in self.results if source in (None, r.source))

    def undesigned(self) -> list[Result]:
        return [r for r in self.results if r.status not in DESIGNED]


async def _one(session: aiohttp.ClientSession, base: str, source: str) -> Result:
    url = f"{base}/v1/records/{source}/{ENTITIES[source]}"
    started = time.perf_counter()
    try:
        async with session.get(url, params={"orgId": DEMO_ORG, "pageSize": "5"}) as resp:
            await resp.read()
            return Result(source, resp.status, time.perf_counter() - started)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Result(source, 0, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")


async def fire(
    base: str, sources: list[str], count: int, *, per_request: float = 60
) -> Burst:
    """``count`` GET queries at once, round-robin over ``sources``, each on its own connection
    (a pool as large as the burst), all started before any is awaited."""
    connector = aiohttp.TCPConnector(limit=count, limit_per_host=count, force_close=True)
    headers = {"Authorization": f"Bearer {DEMO_KEY}"}
    client_timeout = aiohttp.ClientTimeout(total=per_request)  # each request's own bound
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=client_timeout) as session:
        started = time.perf_counter()
        tasks = [_one(session, base, sources[i % len(sources)]) for i in range(count)]
        results = await asyncio.gather(*tasks)
        return Burst(list(results), time.perf_counter() - started)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def table(burst: Burst, sources: list[str]) -> list[str]:
    """One line per source and one for all: count, statuses, p50/p99 in ms."""
    shown = sorted(DESIGNED)
    lines = [f"{'source':<12}{'n':>6}" + "".join(f"{s:>6}" for s in shown)
             + f"{'other':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    for source in [*sources, None]:
        rows = [r for r in burst.results if source in (None, r.source)]
        counts = Counter(r.status for r in rows)
        other = sum(n for s, n in counts.items() if s not in DESIGNED)
        times = [r.seconds * 1000 for r in rows]
        lines.append(
            f"{source or 'all':<12}{len(rows):>6}" + "".join(f"{counts[s]:>6}" for s in shown)
            + f"{other:>7}{percentile(times, 50):>9.1f}{percentile(times, 99):>9.1f}"
            f"{max(times, default=0):>9.1f}"
        )
    return lines
