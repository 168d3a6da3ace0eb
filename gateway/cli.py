"""The `gateway` command line: serve | check-config | connectors | demo | emulator NAME, exit codes.

Exit codes: 0 success, 1 could not run (port taken, import failure), 2 bad config or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from gateway import __version__
from gateway.config.load import ConfigError, load_config
from gateway.config.model import GatewayConfig

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {value}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--workers must be at least 1, not {value}")
    return value


def _load(path: str) -> GatewayConfig | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        _err(str(exc))
        return None


class _Signals:
    """SIGINT and SIGTERM for as long as the block runs, shutdown included: the first sets
    ``stop``; any later one sets ``hurry`` (the drain window ends now, but writes already sent
    still finish: only SIGKILL cuts them). Without this, a second signal during the drain would
    hit Python's default handler and kill the process mid-write."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()

    def watch_parent(self) -> None:
        """A worker's stdin is a pipe its supervisor never writes to (gateway/workers.py): when
        it closes, the supervisor is gone, and this worker stops as on SIGTERM."""
        loop = asyncio.get_running_loop()
        fd = sys.stdin.fileno()

        def readable() -> None:
            if not os.read(fd, 4096):
                loop.remove_reader(fd)
                if not self.stop.is_set():
                    _err("gateway: the supervisor is gone; stopping this worker")
                self._received()

        loop.add_reader(fd, readable)

    def _received(self) -> None:
        if not self.stop.is_set():
            self.stop.set()
            return
        if not self.hurry.is_set():
            _err("gateway: stopping now; writes already sent finish first (SIGKILL aborts them)")
        self.hurry.set()

    def __enter__(self) -> _Signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (``recordgate[fast]``; the image installs it),
    asyncio's own when not or when ``RECORDGATE_LOOP=asyncio`` asks for it."""
    if os.environ.get("RECORDGATE_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop  # optional: recordgate[fast]
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run(coro: Callable[[], Coroutine[Any, Any, int]], *, fast: bool = True) -> int:
    """Run ``coro`` to its exit code; on uvloop when ``fast`` and installed (the workers'
    supervisor serves nothing, and uvloop's subprocesses lack ``process_group``)."""
    try:
        with asyncio.Runner(loop_factory=loop_factory() if fast else None) as runner:
            return runner.run(coro())
    except OSError as exc:  # typically: the port is taken
        _err(f"gateway: cannot listen: {exc}")
        return EXIT_FAILED


def _serve(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_USAGE
    changes: dict[str, Any] = {}
    if args.port is not None:
        changes["port"] = args.port
    if args.host is not None:
        changes["host"] = args.host
    if changes:
        config = config.model_copy(update={"server": config.server.model_copy(update=changes)})

    problem = config.state.workers_problem(args.workers)
    if problem is not None:
        _err(str(ConfigError(args.config, [("state.backend", problem)])))
        return EXIT_USAGE

    from aiohttp import web

    from gateway.http.app import create_app  # the HTTP layer loads only when serving
    from gateway.http.protocol import GatewayRunner
    from gateway.observability.metrics import Metrics
    from gateway.workers import MULTIPROC_ENV, Supervisor

    # A worker of `--workers N` (gateway/workers.py): it shares the port with the others and
    # writes its metrics where /metrics, answered by any of them, adds them all up.
    worker = args.worker
    if worker and not os.environ.get(MULTIPROC_ENV):
        _err(f"gateway serve: --worker is for `--workers N` to use (it sets {MULTIPROC_ENV})")
        return EXIT_USAGE
    metrics = Metrics(multiprocess_dir=os.environ[MULTIPROC_ENV]) if worker else None
    try:
        app = create_app(config, metrics=metrics)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    host, port = config.server.host, config.server.port
    if args.workers > 1:
        return _run(Supervisor(args.config, host, port, args.workers).run, fast=False)

    async def run() -> int:
        # access_log=None: the gateway writes its own canonical line per request. The runner's
        # connections carry the parser bounds (long request lines and headers are a 400, never
        # a 500) and answer the parser's refusals in the error envelope.
        # Handlers are cancelled when their consumer hangs up (writes excepted, see
        # gateway/http/lifecycle.py); stopping drains for server.drainTimeout.
        runner = GatewayRunner(app, access_log=None)
        with _Signals() as signals:
            await runner.setup()
            stopped = False
            sampler = None
            if metrics is not None:
                signals.watch_parent()
                sampler = asyncio.create_task(metrics.sample_forever())
            try:
                try:
                    await web.TCPSite(runner, host, port, reuse_port=worker).start()
                except OSError as exc:
                    _err(f"gateway: cannot listen on {host}:{port}: {exc.strerror or exc}")
                    return EXIT_FAILED
                who = f"worker {os.getpid()}" if worker else __version__
                loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
                _err(f"gateway {who} listening on http://{host}:{port} ({loop} event loop)")
                await signals.stop.wait()
                _err(f"gateway: stopping (up to {config.server.drainTimeout:g} s for requests "
                     "in flight; writes already sent always finish)")
                stopped = True
                await runner.stop(signals.hurry)
            finally:
                if sampler is not None:
                    sampler.cancel()
                if not stopped:
                    await runner.cleanup()
        return EXIT_OK

    return _run(run)


def _check_config(args: argparse.Namespace) -> int:
    config = _load(args.file)
    if config is None:
        return EXIT_USAGE
    print(f"{args.file}: OK ({len(config.sources)} sources, {len(config.consumers)} consumers)")
    return EXIT_OK


def _connectors(args: argparse.Namespace) -> int:
    """One line per connector type found; a type that cannot be used (its package fails to
    import, or takes a name already used) is listed with the reason and exits 1."""
    from gateway.registry import installed

    found = installed()
    head = ("TYPE", "PACKAGE", "VERSION", "SOURCE", "OBJECT")
    rows = [head, *((i.name, i.package, i.version, i.origin, i.ref) for i in found)]
    widths = [max(len(row[col]) for row in rows) for col in range(len(head))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for broken in (i for i in found if i.problem):
        _err(f"gateway connectors: {broken.name} ({broken.package}) is not usable: "
             f"{broken.problem}")
    return EXIT_FAILED if any(i.problem for i in found) else EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import DEMO_KEY, DEMO_ORG, start_demo
    from gateway.state import restart_warning

    async def run() -> int:
        with _Signals() as signals:
            try:
                demo = await start_demo(args.host, args.port)
            except ConfigError as exc:
                _err(str(exc))
                return EXIT_USAGE
            except ImportError as exc:
                _err(f"gateway demo: a part of the gateway is missing: {exc}")
                return EXIT_FAILED
            try:
                print(f"recordgate demo: gateway on {demo.url}  "
                      f"(org {DEMO_ORG}, API key {DEMO_KEY})")
                for type_name, origin in demo.emulators.items():
                    print(f"  emulated {type_name} at {origin}: {demo.banners[type_name]}")
                print("Try:")
                for line in demo.curl_examples():
                    print(f"  {line}")
                print("Press Ctrl+C to stop.", flush=True)
                warning = restart_warning(demo.config.state)
                if warning is not None:
                    print(warning, file=sys.stderr, flush=True)
                await signals.stop.wait()
            finally:
                await demo.close(signals.hurry)
        return EXIT_OK

    return _run(run)


def _emulator(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.registry import connector_types

    available = {name: kind for name, kind in connector_types().items() if kind.emulator}
    kind = available.get(args.name)
    if kind is None:
        names = ", ".join(sorted(available)) or "none"
        _err(f"gateway emulator: no emulator named {args.name!r} (available: {names})")
        return EXIT_USAGE
    if (args.user is None) != (args.password is None):
        _err("gateway emulator: give --user and --password together")
        return EXIT_USAGE
    try:
        factory = kind.load_emulator()
    except (ImportError, AttributeError) as exc:
        _err(f"gateway emulator: the {args.name} emulator cannot be loaded: {exc}")
        return EXIT_FAILED
    credentials = () if args.user is None else (args.user, args.password)
    app = factory(*credentials)

    async def run() -> int:
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            await web.TCPSite(runner, args.host, args.port).start()
            bound = runner.addresses[0][1]  # the real port, also when --port 0
            print(kind.emulator_banner)
            if args.user is not None:
                print(f"credentials: {args.user} / {args.password}")
            print(f"{args.name} emulator listening on http://{args.host}:{bound}", flush=True)
            with _Signals() as signals:
                await signals.stop.wait()
        finally:
            await runner.cleanup()
        return EXIT_OK

    return _run(run)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="recordgate: one Records API in front of SaaS record backends"
    )
    parser.add_argument("--version", action="version", version=f"recordgate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway on a config file")
    serve.add_argument("--config", required=True, metavar="FILE", help="the YAML config")
    serve.add_argument("--port", type=_port, help="overrides server.port")
    serve.add_argument("--host", help="overrides server.host")
    serve.add_argument(
        "--workers", type=_workers, default=1, metavar="N",
        help="N processes on one port (SO_REUSEPORT); more than 1 needs state.backend: redis")
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(run=_check_config)

    listing = commands.add_parser(
        "connectors", help="list the installed connector types, their packages and versions")
    listing.set_defaults(run=_connectors)

    demo = commands.add_parser("demo", help="the gateway on emulated backends with sample data")
    demo.add_argument("--port", type=_port, default=8080)
    demo.add_argument("--host", default="127.0.0.1")
    demo.set_defaults(run=_demo)

    emulator = commands.add_parser("emulator", help="run one emulated backend alone")
    emulator.add_argument("name", metavar="NAME", help="a source type, e.g. sugarcrm")
    emulator.add_argument("--port", type=_port, default=8081, help="0 picks a free port")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--user", help="login the emulator accepts (with --password)")
    emulator.add_argument("--password")
    emulator.set_defaults(run=_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.run(args)
    return code
