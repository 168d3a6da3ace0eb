"""Run an emulator's aiohttp app on a loopback port: for tests, the demo and `gateway emulator`."""

from __future__ import annotations

from aiohttp import web

__all__ = ["run", "start"]


async def start(app: web.Application, host: str = "127.0.0.1",
                port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve `app` in the running loop; returns the runner (call `cleanup()`) and the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    return runner, f"http://{host}:{bound[1]}"


def run(app: web.Application, host: str, port: int, banner: str) -> None:
    """Serve `app` until interrupted (blocking), after printing `banner` and the URL."""
    print(f"{banner}\nlistening on http://{host}:{port}", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
