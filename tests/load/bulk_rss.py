"""Memory of the bulk repro (issue 16): the gateway's RSS around big /v1/bulk calls on the demo.

    python -m tests.load.bulk_rss [--entries 1000] [--page-size 1000] [--concurrent 1]
                                  [--source slingr] [--budgets '{"recordsPerRequest": 1000000}']

Starts ``tests.load.serve`` (the demo, emulators in the same process, nothing slowed) as its own
process, warms it with one small query, then sends ``--concurrent`` bulks at once, each of
``--entries`` ``{"pageSize": N}`` query entries on one demo entity, and prints the gateway
process's RSS before, its peak (VmHWM) after, each answer's status and size, and the time taken.
``--budgets`` lays ``server.budgets`` keys over the demo's (to measure a bulk the defaults would
refuse, say the streamed answer of one that is allowed). Loopback only; bounded by the counts
and the client timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

from gateway.demo import DEMO_KEY, DEMO_ORG
from tests.load.loadgen import ENTITIES
from tests.load.run import rss, start_server

__all__ = ["main"]


async def _bulk(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, int, str]:
    async with session.post(f"{url}/v1/bulk?orgId={DEMO_ORG}", data=body,
                            headers={"Authorization": f"Bearer {DEMO_KEY}",
                                     "Content-Type": "application/json"}) as resp:
        size = 0
        head = b""
        async for chunk in resp.content.iter_chunked(1 << 16):
            if len(head) < 300:
                head += chunk[:300]
            size += len(chunk)
        return resp.status, size, head[:200].decode("utf-8", "replace")


async def run(args: argparse.Namespace) -> None:
    log = Path(tempfile.mkdtemp(prefix="recordgate-bulk-rss-")) / "gateway.log"
    if args.budgets:
        os.environ["RECORDGATE_DEMO_BUDGETS"] = args.budgets
    proc, url = start_server("", 0, log)
    try:
        entity = ENTITIES[args.source]
        path = f"/v1/records/{args.source}/{entity}/query"
        entry = {"url": path, "method": "POST", "data": {"pageSize": args.page_size}}
        body = orjson.dumps({"requests": [entry] * args.entries})
        timeout = aiohttp.ClientTimeout(total=args.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await _bulk(session, url, orjson.dumps({"requests": [
                {"url": path, "method": "POST", "data": {"pageSize": 5}}]}))
            before = rss(proc.pid)
            print(f"bulk of {args.entries} x {{pageSize: {args.page_size}}} on "
                  f"{args.source}/{entity} ({len(body) / 1024:.0f} KB body), "
                  f"{args.concurrent} at once")
            print(f"gateway RSS before: {before[0]:.0f} MB (peak so far {before[1]:.0f} MB)")
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(_bulk(session, url, body) for _ in range(args.concurrent)))
            took = time.perf_counter() - started
        now, peak = rss(proc.pid)
        for status, size, head in answers:
            print(f"  answer {status}, {size / 1024 / 1024:.1f} MB: {head[:120]}")
        print(f"gateway RSS after: {now:.0f} MB, peak {peak:.0f} MB; took {took:.1f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=1)
    parser.add_argument("--source", default="slingr", choices=sorted(ENTITIES))
    parser.add_argument("--budgets", default="", help="JSON laid over server.budgets")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
