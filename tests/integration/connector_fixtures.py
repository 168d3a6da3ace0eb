"""Fixture helpers the connector suites share: an emulator on loopback, connectors opened on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from connectors.emulation.server import start
from gateway.connector import PushedQuery
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.session import open_session

__all__ = ["FAST", "connectors", "serve", "walk"]

# Retries that keep their shape but take milliseconds, so fault tests stay quick.
FAST = RetryPolicy(base=0.01, cap=0.05, retry_after_cap=5)

E = TypeVar("E")
C = TypeVar("C")


@asynccontextmanager
async def serve(emulator: E, path: str = "") -> AsyncIterator[tuple[E, str]]:
    """Serve `emulator.app` on a loopback port; yields it and its base URL plus `path`."""
    runner, base = await start(emulator.app)  # type: ignore[attr-defined]
    yield emulator, f"{base}{path}"
    await runner.cleanup()


@asynccontextmanager
async def connectors(name: str, source: Any, connector: Callable[..., C],
                     ) -> AsyncIterator[Callable[..., C]]:
    """Yields `open(config, policy, **ctx)`, building a connector named `name` with its own
    session; `ctx` goes to its UpstreamContext (metrics, breaker, ...).

    Every connector opened is closed, with its session, when the block ends.
    """
    opened: list[tuple[Any, Any]] = []

    def open_one(raw: dict[str, Any], policy: RetryPolicy, **ctx_kw: Any) -> C:
        config = source.model_validate(raw)
        session = open_session(config)
        ctx = UpstreamContext(name, None, config.timeout, config.retries, **ctx_kw)
        conn = connector(name, config, session, ctx, policy=policy)
        opened.append((conn, session))
        return conn

    yield open_one
    for conn, session in opened:
        await conn.aclose()
        await session.close()


async def walk(conn: Any, entity: str, pushed: PushedQuery | None = None,
               limit: int | None = None) -> list[dict[str, Any]]:
    """Every record of a pushed query, page by page as the gateway's pager would."""
    pushed = pushed or PushedQuery()
    out: list[dict[str, Any]] = []
    offset = 0
    limit = limit or conn.capabilities.max_page
    for _ in range(1000):
        page = await conn.query(await conn.describe(entity), pushed, offset, limit)
        out.extend(page.records)
        offset += len(page.records)
        if not page.more:
            return out
    raise AssertionError("paging did not end")
