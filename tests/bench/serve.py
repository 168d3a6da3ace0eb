"""Bench servers, one per process: ``python -m tests.bench.serve emulator|proxy|gateway --port N``.

The harness starts each leg's server as its own process so no server's CPU is charged to
another leg and each one has the interpreter and event loop to itself, as deployed:

* ``emulator``: the SugarCRM emulator on ``--port``, plus a control app on ``--control-port``
  (``GET /calls`` answers how many requests the emulator served since the last read and starts
  counting again), so the harness counts backend calls per leg without touching the emulator.
* ``proxy``: the bare aiohttp pass-through proxy (``tests/bench/proxy.py``) to ``--upstream``.
* ``gateway``: the production entry point, ``gateway serve --config FILE --port N``, on a config
  naming the emulator as source ``sugarcrm``. Logging is the production one (JSON lines on
  stdout at ``server.logLevel``); the harness points stdout at a file, as a container runtime
  points it at its log driver. ``--pyinstrument OUT`` wraps it in pyinstrument (fallback when
  py-spy is not installed) and writes the profile on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from pathlib import Path

from aiohttp import web

__all__ = ["API_KEY", "ORG", "SUGAR_PASSWORD", "SUGAR_USER", "gateway_config", "main"]

ORG, API_KEY = "bench", "bench-key"
SUGAR_USER = SUGAR_PASSWORD = "admin"


def gateway_config(emulator_origin: str, log_level: str = "info") -> str:
    return f"""
server: {{host: 127.0.0.1, port: 0, logLevel: {log_level}}}
consumers:
  # The bench measures the gateway's own work on one consumer at concurrency 32: the default
  # budgets (200 backend calls a second) and slot share (half of maxInFlight) would turn rounds
  # into 429s, not a measurement.
  - name: bench
    apiKey: {API_KEY}
    orgs: [{ORG}]
    budgets: {{backendCallsPerSecond: 1000000, backendCallsBurst: 1000000}}
sources:
  sugarcrm:
    type: sugarcrm
    baseUrl: {emulator_origin}/rest/v10
    timeout: 30
    retries: 0
    maxInFlightPerConsumer: 32
    auth: {{username: {SUGAR_USER}, password: {SUGAR_PASSWORD}, clientId: sugar,
            clientSecret: "", platform: base}}
"""


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve_all(apps: list[tuple[web.Application, int]]) -> None:
    runners = []
    try:
        for app, port in apps:
            runner = web.AppRunner(app, access_log=None)  # no server's access log is measured
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", port).start()
        await _until_stopped()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def _emulator(args: argparse.Namespace) -> int:
    from connectors.sugarcrm.emulator import SugarEmulator

    emulator = SugarEmulator(users={SUGAR_USER: SUGAR_PASSWORD})

    async def calls(request: web.Request) -> web.Response:
        n = len(emulator.log)
        emulator.reset_log()  # the log keeps every call: keep it from growing over a run
        return web.json_response({"calls": n})

    control = web.Application()
    control.router.add_get("/calls", calls)
    asyncio.run(_serve_all([(emulator.app, args.port), (control, args.control_port)]))
    return 0


def _proxy(args: argparse.Namespace) -> int:
    from gateway.cli import loop_factory
    from tests.bench.proxy import make_proxy_app

    # The proxy runs on the gateway's event loop (uvloop when installed, unless
    # RECORDGATE_LOOP=asyncio), so the two legs differ only in what they do per request.
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_serve_all([(make_proxy_app(args.upstream), args.port)]))
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from gateway.cli import main as gateway_main

    with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp:
        config = Path(tmp) / "gateway.yaml"
        config.write_text(gateway_config(args.upstream, args.log_level), encoding="utf-8")
        argv = ["serve", "--config", str(config), "--port", str(args.port)]
        if not args.pyinstrument:
            return gateway_main(argv)
        from pyinstrument import Profiler

        # async_mode off: sample the whole thread, every task of the loop, where the CPU goes.
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        with profiler:
            code = gateway_main(argv)
        out = Path(args.pyinstrument)
        out.write_text(profiler.output_html(), encoding="utf-8")
        out.with_suffix(".txt").write_text(
            profiler.output_text(unicode=True, color=False), encoding="utf-8"
        )
        return code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.bench.serve", description=__doc__)
    sub = p.add_subparsers(dest="what", required=True)
    emu = sub.add_parser("emulator")
    emu.add_argument("--port", type=int, required=True)
    emu.add_argument("--control-port", type=int, required=True)
    emu.set_defaults(run=_emulator)
    for name, run in (("proxy", _proxy), ("gateway", _gateway)):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--upstream", required=True, help="the emulator's origin, no path")
        s.set_defaults(run=run)
        if name == "gateway":
            s.add_argument("--log-level", default="info")
            s.add_argument("--pyinstrument", metavar="OUT.html", help="profile, written on exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
