"""create_app(config) → the aiohttp application: routes, middlewares, and the resources it owns
(the state store, the sources)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from gateway import __version__
from gateway.budgets import SCANS, ScanSlots
from gateway.cache import ReadCache
from gateway.http.envelope import dumps
from gateway.http.keys import (
    CONFIG,
    CONSUMERS,
    METRICS,
    OPENAPI,
    RECORDS,
    REDACTOR,
    SOURCES,
    STORE,
)
from gateway.http.lifecycle import INFLIGHT, WRITE_GRACE, InFlight, lifecycle_middleware
from gateway.http.middleware.consumers import KeyRing, consumers_middleware
from gateway.http.middleware.context import context_middleware, prepare_headers
from gateway.http.middleware.errors import errors_middleware
from gateway.http.middleware.idempotency import idempotency_middleware
from gateway.http.middleware.limits import limits_middleware
from gateway.http.routes import ROUTES
from gateway.observability import tracing
from gateway.observability.logging import configure_logging
from gateway.observability.metrics import Metrics
from gateway.observability.openapi import build_openapi
from gateway.observability.redact import Redactor
from gateway.records import RecordsService
from gateway.sources import Sources
from gateway.state import open_store
from gateway.state.lock import RecordLocks

if TYPE_CHECKING:
    from gateway.config.model import GatewayConfig

__all__ = ["create_app"]

# Outermost first: the context sees every answer (errors included) for its access line and
# metrics; errors renders whatever the auth, limits and handlers raise; the consumer is known
# (and its scopes checked) before its rate limit is taken, and its backend calls are charged to
# its share of each source's slots; a refused call never reserves an idempotency key, and a
# replay costs a token like any call.
MIDDLEWARES = (
    lifecycle_middleware,  # outermost: a write runs shielded, access line and all (lifecycle.py)
    context_middleware,
    errors_middleware,
    consumers_middleware,  # then the header checks and the caller's bulkhead share, no layers
    limits_middleware,
    idempotency_middleware,
)


async def _state_ctx(app: web.Application) -> AsyncIterator[None]:
    app[STORE] = open_store(app[CONFIG].state)
    yield
    await app[STORE].aclose()


async def _sources_ctx(app: web.Application) -> AsyncIterator[None]:
    state_cfg = app[CONFIG].state
    locks = RecordLocks(app[STORE], ttl=state_cfg.recordLockTtl, wait=state_cfg.recordLockWait)
    app[SOURCES] = await Sources.open(app[CONFIG], app[METRICS], app[REDACTOR], locks)
    cache = ReadCache.of(app[CONFIG], app[METRICS], app[STORE])  # gateway/cache.py
    app[RECORDS] = RecordsService(app[SOURCES], app[CONFIG].server, app[METRICS], cache)
    await cache.start()
    yield
    await cache.aclose()
    await app[SOURCES].aclose()


async def _inflight_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    # Writes whose consumer hung up run on; however the app is stopped, they end first.
    server = app[CONFIG].server
    await app[INFLIGHT].drain(0, asyncio.Event(), write_cap=server.requestTimeout + WRITE_GRACE)


def create_app(
    config: GatewayConfig,
    *,
    metrics: Metrics | None = None,
    redactor: Redactor | None = None,
    configure_logs: bool = True,
) -> web.Application:
    """The gateway as an aiohttp app. With ``configure_logs`` (the default) it also sets up the
    process's structlog output at ``server.logLevel`` with this app's secrets redacted; pass
    False when the caller configured logging already (then pass its ``redactor``)."""
    redactor = redactor or Redactor()
    for secret in config.secrets():
        redactor.add(secret)
    if configure_logs:
        configure_logging(config.server.logLevel, redactor)
    # Before the Application and its client sessions: the OpenTelemetry aiohttp instrumentations
    # trace what is built after (a no-op unless OTEL_* asks for traces: README, Tracing).
    traced = tracing.start()
    app = web.Application(middlewares=list(MIDDLEWARES),
                          client_max_size=config.server.maxBodyBytes)
    app[CONFIG] = config
    app[METRICS] = metrics or Metrics()
    app[REDACTOR] = redactor
    app[CONSUMERS] = KeyRing(config.consumers)
    app[SCANS] = ScanSlots()  # concurrent scans per consumer (gateway/budgets.py)
    app[OPENAPI] = dumps(build_openapi(ROUTES, version=__version__))
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    # X-Request-Id, Server-Timing, Server, RateLimit-*: one hook (context.py)
    app.on_response_prepare.append(prepare_headers)
    if traced:
        app.cleanup_ctx.append(tracing.app_ctx)  # first in, last out: the last spans exported
    app.cleanup_ctx.append(_state_ctx)
    app.cleanup_ctx.append(_sources_ctx)
    app[INFLIGHT] = InFlight()
    app.cleanup_ctx.append(_inflight_ctx)  # last in, first out: writes end before sources close
    return app
