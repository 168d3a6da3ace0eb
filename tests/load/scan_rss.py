"""Memory and fairness of the scan repro (issue 16, repro 6): many concurrent full scans.

    python -m tests.load.scan_rss [--contacts 30000] [--scans 10] [--budgets '{...}']

Starts ``tests.load.serve`` (the demo in its own process, emulators in it, nothing slowed) with
Slingr's ``contacts`` grown to ``--contacts`` records, warms it, then sends ``--scans``
concurrent queries that the gateway must finish itself over every record (an ``isNull`` on a
text field, which Slingr's ``empty()`` cannot answer exactly), while a second consumer's cheap
query (one Data Service record) is timed. Prints the process's RSS before and its peak (VmHWM)
after, each scan's status, and the cheap query's latency alone and during the scans.
``--budgets`` lays ``server.budgets`` keys over the demo's, e.g. ``{"concurrentScans": 100}`` for
the behaviour without the concurrent-scan bound. Loopback only; bounded by counts and timeouts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from gateway.demo import DEMO_KEY, DEMO_ORG
from tests.load.run import rss, start_server

__all__ = ["main"]

AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
SCAN = {"filter": [[{"field": "email", "operator": "isNull"}]], "pageSize": 50}
CHEAP = {"pageSize": 1}


async def _query(session: aiohttp.ClientSession, url: str, path: str,
                 body: dict[str, object]) -> tuple[int, float, str]:
    """Status, milliseconds, and for a refusal its ``msg``."""
    started = time.perf_counter()
    async with session.post(f"{url}{path}?orgId={DEMO_ORG}", json=body, headers=AUTH) as resp:
        answer = await resp.json()
        why = "" if resp.status == 200 else str(answer.get("msg", ""))[:90]
        return resp.status, (time.perf_counter() - started) * 1000, why


async def run(args: argparse.Namespace) -> None:
    log = Path(tempfile.mkdtemp(prefix="recordgate-scan-rss-")) / "gateway.log"
    os.environ["RECORDGATE_DEMO_SLINGR_CONTACTS"] = str(args.contacts)
    if args.budgets:
        os.environ["RECORDGATE_DEMO_BUDGETS"] = args.budgets
    proc, url = start_server("", 0, log)
    scan_path = "/v1/records/slingr/contacts/query"
    cheap_path = "/v1/records/dataservice/Olympics/query"
    try:
        timeout = aiohttp.ClientTimeout(total=args.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await _query(session, url, scan_path, {"pageSize": 1})
            alone = sorted([(await _query(session, url, cheap_path, CHEAP))[1]
                            for _ in range(5)])[2]
            before, _ = rss(proc.pid)
            scans = [asyncio.create_task(_query(session, url, scan_path, SCAN))
                     for _ in range(args.scans)]
            await asyncio.sleep(0.2)  # a load script, not a test: let the scans get going
            during = []
            while not all(t.done() for t in scans) and len(during) < 20:
                during.append((await _query(session, url, cheap_path, CHEAP))[1])
            results = await asyncio.gather(*scans)
        now, peak = rss(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    statuses = Counter(status for status, _, _ in results)
    reasons = Counter(why for _, _, why in results if why)
    took = max(ms for _, ms, _ in results)
    during_p50 = sorted(during)[len(during) // 2] if during else float("nan")
    print(f"scan repro: {args.scans} concurrent scans of {args.contacts} Slingr records")
    print(f"  scan statuses {dict(statuses)}; slowest {took:.0f} ms")
    for why, n in reasons.items():
        print(f"  {n} refused: {why}")
    print(f"  gateway process RSS before {before:.1f} MB, peak {peak:.1f} MB, after {now:.1f} MB")
    print(f"  second consumer's one-record query: {alone:.1f} ms alone, "
          f"p50 {during_p50:.1f} ms during the scans ({len(during)} sent)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--scans", type=int, default=10)
    parser.add_argument("--budgets", default="", help="JSON laid over server.budgets")
    parser.add_argument("--timeout", type=float, default=300)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
