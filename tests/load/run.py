"""Loopback load run on the demo: a burst of concurrent queries with one backend slowed.

    python -m tests.load.run [--concurrency 2000] [--slow-ms 500] [--slow sugarcrm] [--rounds 3]

Starts ``tests.load.serve`` (the demo, one emulator slowed) as its own process, fires
``--concurrency`` GET queries at once round-robin over the three demo sources, ``--rounds``
times, and prints status counts, p50/p99 per source and the gateway process's RSS before and
after each round. Exit status 1 when any answer is not one of the designed 200/429/503/504 (or
no answer at all), or when RSS keeps growing round over round. Traffic stays on 127.0.0.1 and
every loop is bounded by count and by the client timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.load.loadgen import ENTITIES, fire, table

READY = re.compile(r"READY (http://127\.0\.0\.1:\d+)")
MB = 1024 * 1024


def rss(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of ``pid`` in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def start_server(slow: str, slow_ms: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.load.serve", "--slow", slow, "--slow-ms", str(slow_ms)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        found = READY.search(log.read_text(errors="replace"))
        if found:
            return proc, found.group(1)
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the demo did not start:\n{log.read_text(errors='replace')[-2000:]}")


async def run(args: argparse.Namespace) -> int:
    sources = list(ENTITIES)
    log = Path(tempfile.mkdtemp(prefix="recordgate-load-")) / "gateway.log"
    proc, url = start_server(args.slow, args.slow_ms, log)
    failed = False
    try:
        warm = await fire(url, sources, 30)  # tokens, metadata, pools: not part of the figures
        assert not warm.undesigned(), warm.undesigned()[:3]
        before = rss(proc.pid)
        print(f"recordgate load: {args.concurrency} concurrent GET queries x {args.rounds} "
              f"rounds over {', '.join(sources)}; {args.slow} slowed by {args.slow_ms} ms")
        print(f"gateway process RSS before: {before[0]:.1f} MB")
        after: list[float] = []
        for n in range(1, args.rounds + 1):
            burst = await fire(url, sources, args.concurrency, per_request=args.timeout)
            now, peak = rss(proc.pid)
            after.append(now)
            print(f"\nround {n}: {len(burst.results)} requests in {burst.seconds:.2f} s "
                  f"({len(burst.results) / burst.seconds:.0f} req/s); gateway RSS {now:.1f} MB "
                  f"(peak {peak:.1f} MB)")
            for line in table(burst, sources):
                print("  " + line)
            bad = burst.undesigned()
            if bad:
                failed = True
                errors = sorted({r.error or str(r.status) for r in bad})
                print(f"  NOT DESIGNED: {len(bad)} answers: {'; '.join(errors[:5])}")
        # Bounded: once pools and caches are warm, later rounds do not keep adding memory.
        growth = after[-1] - after[0] if len(after) > 1 else 0.0
        print(f"\nRSS before {before[0]:.1f} MB, after each round "
              + ", ".join(f"{a:.1f}" for a in after)
              + f" MB; growth after round 1: {growth:+.1f} MB")
        if growth > args.max_growth_mb:
            failed = True
            print(f"MEMORY NOT BOUNDED: grew {growth:.1f} MB > {args.max_growth_mb} MB")
        if proc.poll() is not None:
            failed = True
            print("THE GATEWAY DIED")
        undesigned_logged = log.read_text(errors="replace").count('"status":500')
        if undesigned_logged:
            failed = True
            print(f"the gateway logged {undesigned_logged} answers with status 500 ({log})")
        print("\nresult:", "FAIL" if failed else "OK (only designed statuses, memory bounded)")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--slow-ms", type=int, default=500)
    parser.add_argument("--slow", default="sugarcrm", choices=sorted(ENTITIES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60, help="client timeout per request")
    parser.add_argument("--max-growth-mb", type=float, default=64,
                        help="RSS growth from the first to the last round counted as a leak")
    args = parser.parse_args()
    if args.concurrency < 1 or args.rounds < 1:
        parser.error("--concurrency and --rounds must be at least 1")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
