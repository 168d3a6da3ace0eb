"""The demo for the load run, in a process of its own: one emulator slowed, ready line printed.

``python -m tests.load.serve --slow sugarcrm --slow-ms 500`` prints ``READY <url>`` once it
listens, then serves until SIGTERM or SIGINT. In-process emulators, so their latency knob is at
hand; a process apart from the load generator, so its memory is the gateway's own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal

import yaml

from gateway import demo as demo_module
from gateway.demo import start_demo
from tests.load.loadgen import emulator_faults


def _with_budgets(budgets: str) -> None:
    """Lay ``server.budgets`` keys (JSON, from ``RECORDGATE_DEMO_BUDGETS``) over the demo's
    config, for measuring what the default budgets would refuse (``tests.load.bulk_rss``)."""
    text = demo_module.demo_config_text()
    data = yaml.safe_load(text)
    data["server"]["budgets"] = {**data["server"].get("budgets", {}), **json.loads(budgets)}
    patched = yaml.safe_dump(data, sort_keys=False)
    demo_module.demo_config_text = lambda: patched  # this process only


def _with_contacts(count: int) -> None:
    """Grow the demo Slingr app's ``contacts`` to ``count`` records (``RECORDGATE_DEMO_SLINGR_
    CONTACTS``, for ``tests.load.scan_rss``)."""
    import connectors.slingr.emulator as slingr

    made = slingr.create_app
    slingr.create_app = lambda *a, **kw: made(*a, contacts=count, **kw)  # type: ignore[assignment]


async def serve(slow: str | None, slow_ms: int, port: int) -> None:
    if os.environ.get("RECORDGATE_DEMO_BUDGETS"):
        _with_budgets(os.environ["RECORDGATE_DEMO_BUDGETS"])
    if os.environ.get("RECORDGATE_DEMO_SLINGR_CONTACTS"):
        _with_contacts(int(os.environ["RECORDGATE_DEMO_SLINGR_CONTACTS"]))
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
