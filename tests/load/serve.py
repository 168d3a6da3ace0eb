"""The demo for the load run, in a process of its own: one emulator slowed, ready line printed.

``python -m tests.load.serve --slow sugarcrm --slow-ms 500`` prints ``READY <url>`` once it
listens, then serves until SIGTERM or SIGINT. In-process emulators, so their latency knob is at
hand; a process apart from the load generator, so its memory is the gateway's own.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from gateway.demo import start_demo
from tests.load.loadgen import emulator_faults


async def serve(slow: str | None, slow_ms: int, port: int) -> None:
    demo = await start_demo("127.0.0.1", port)
    try:
        if slow:
            emulator_faults(demo, slow).latency = slow_ms / 1000
        print(f"READY {demo.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await demo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", default="sugarcrm", help="source type whose emulator is slow")
    parser.add_argument("--slow-ms", type=int, default=500)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.slow, args.slow_ms, args.port))


if __name__ == "__main__":
    main()
