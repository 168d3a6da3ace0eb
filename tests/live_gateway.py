"""One gateway over the three emulators, served from an event loop in a thread of its own.

Property suites (hypothesis is synchronous) send hundreds of requests to one long-lived gateway
through :meth:`LiveGateway.run` instead of starting servers for every example. Subclasses add
what they need: ``source_overrides`` and ``server`` shape the config, ``built()`` runs once the
gateway listens.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import aiohttp
from aiohttp.test_utils import TestServer

from gateway.config.load import load_config_text
from gateway.http.app import create_app
from tests.conftest import gateway_config_text
from tests.contract.backends import HARNESSES, Harness

__all__ = ["LiveGateway"]

T = TypeVar("T")


class LiveGateway:
    """``with LiveGateway() as live: live.run(coro)``; ``harnesses`` by type, ``root`` URL."""

    server: dict[str, Any] = {}  # server.* keys of the gateway's config

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.harnesses: dict[str, Harness] = {}
        self.servers: list[TestServer] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` on the gateway's loop and wait for its result."""
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def __enter__(self) -> LiveGateway:
        self.thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def build_app(self, config_text: str) -> Any:
        return create_app(load_config_text(config_text, "live.yaml", env={}),
                          configure_logs=False)

    async def built(self) -> None:
        """Called once the gateway listens."""

    async def _serve(self, app: Any) -> TestServer:
        server = TestServer(app)
        await server.start_server()
        self.servers.append(server)
        return server

    async def _start(self) -> None:
        for kind in sorted(HARNESSES):
            h = HARNESSES[kind]()
            await h.start(self._serve)
            self.harnesses[kind] = h
        text = gateway_config_text(
            {k: h.source(retries=0) for k, h in self.harnesses.items()}, server=self.server)
        self.gateway = await self._serve(self.build_app(text))
        self.root = str(self.gateway.make_url("/")).rstrip("/")
        self.session = aiohttp.ClientSession()
        await self.built()

    async def _stop(self) -> None:
        await self.session.close()
        for server in reversed(self.servers):
            await server.close()
