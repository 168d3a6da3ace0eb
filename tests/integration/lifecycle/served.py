"""The gateway served as `gateway serve` serves it (GatewayRunner, real sockets on loopback),
in the test's own process so tests can watch its in-flight requests and its emulators."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.config.load import load_config_text
from gateway.http.app import create_app
from gateway.http.lifecycle import INFLIGHT
from gateway.http.protocol import GatewayRunner
from tests.conftest import gateway_config_text

__all__ = ["Served", "eventually", "serve_gateway"]


@dataclass
class Served:
    runner: GatewayRunner
    port: int

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def in_flight(self) -> int:
        return len(self.app[INFLIGHT])

    def connections(self) -> int:
        assert self.runner.server is not None
        return len(self.runner.server.connections)


@asynccontextmanager
async def serve_gateway(sources: dict[str, Any], **config: Any) -> AsyncIterator[Served]:
    app = create_app(load_config_text(gateway_config_text(sources, **config), "test.yaml",
                                      env={}), configure_logs=False)
    runner = GatewayRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield Served(runner, int(runner.addresses[0][1]))
    finally:
        await runner.cleanup()


async def eventually(check: Callable[[], bool], within: float, what: str) -> float:
    """Poll ``check`` until it holds (returns the seconds it took), failing after ``within``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started
