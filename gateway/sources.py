"""The configured sources: a session each, connectors per org made lazily, health, readiness."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import aiohttp
import structlog

from gateway import registry
from gateway.config.base import SourceBase
from gateway.errors import BackendFailure, GatewayError, NotFound
from gateway.observability.metrics import Metrics
from gateway.observability.redact import Redactor
from gateway.upstream.breaker import Breaker
from gateway.upstream.bulkhead import Bulkhead
from gateway.upstream.context import UpstreamContext
from gateway.upstream.session import open_session

if TYPE_CHECKING:
    from gateway.config.model import GatewayConfig
    from gateway.connector import Connector

__all__ = ["CONNECTOR_HOOK", "Health", "Readiness", "Source", "Sources"]

Health = Literal["ok", "down", "unknown"]
log = structlog.get_logger("gateway.sources")

# Readiness probes come every few seconds from every replica's kubelet; one backend check per
# window is plenty and keeps probes from becoming load on the backends.
READY_CACHE_SECONDS = 5.0

# Set by /v1/bulk around an entry whose write it coalesces into a native batch: the handler then
# gets a connector that defers the write to the batch, and renders the outcome as it would alone.
CONNECTOR_HOOK: ContextVar[Callable[[Source, Connector], Connector] | None] = ContextVar(
    "gateway_connector_hook", default=None
)


@dataclass(frozen=True)
class Readiness:
    ready: bool
    # name -> {"status": "ok"|"down"|"open"|"half_open", "reason"?: text}; open/half_open: the
    # source's circuit breaker, whatever the last check found
    sources: dict[str, dict[str, str]]


class _Observe:
    """``Source.observe()``: a plain context manager, reused (it holds no per-call state); it
    runs around every backend call, where a generator-based one cost a frame and a generator."""

    __slots__ = ("_source",)

    def __init__(self, source: Source) -> None:
        self._source = source

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:  # never swallows the exception
        if kind is None or isinstance(exc, GatewayError):
            self._source.health = "down" if isinstance(exc, BackendFailure) else "ok"


class Source:
    """One configured source: its session, its connectors (one per org with own credentials,
    else one shared), and its last known health."""

    def __init__(
        self,
        name: str,
        config: GatewayConfig,
        session: aiohttp.ClientSession,
        metrics: Metrics,
        redactor: Redactor,
    ) -> None:
        self.name = name
        self._gateway = config
        self.config: SourceBase = config.sources[name]
        self.type: str = self.config.type
        self._session = session
        self._metrics = metrics
        self._redactor = redactor
        self._connectors: dict[str | None, Connector] = {}
        self.health: Health = "unknown"
        self._observer = _Observe(self)
        # One breaker and one bulkhead per source, shared by every org's connector: the backend
        # is one service whatever credentials reach it.
        self.breaker = Breaker(
            name, failures=self.config.breaker.failures,
            open_seconds=self.config.breaker.openSeconds, metrics=metrics,
        )
        self.bulkhead = Bulkhead(
            name, max_in_flight=self.config.maxInFlight, queue_timeout=self.config.queueTimeout,
            metrics=metrics,
        )

    def _credentials_org(self, org: str | None) -> str | None:
        """The org whose own credentials serve ``org`` on this source, None for the default."""
        if org is None:
            return None
        override = self._gateway.orgs.get(org)
        if override is not None and self.name in override.sources:
            return org
        return None

    def connector(self, org: str | None) -> Connector:
        """The connector serving ``org``: built on first use (factories are synchronous, so two
        concurrent first calls cannot build two)."""
        key = self._credentials_org(org)
        conn = self._connectors.get(key)
        if conn is None:
            cfg = self.config if key is None else self._gateway.source_config(self.name, key)
            ctx = UpstreamContext(
                source=self.name, org=key, timeout=cfg.timeout, retries=cfg.retries,
                metrics=self._metrics, redactor=self._redactor,
                breaker=self.breaker, bulkhead=self.bulkhead,
            )
            conn = registry.get_type(cfg.type).factory(self.name, cfg, self._session, ctx)
            self._connectors[key] = conn
        hook = CONNECTOR_HOOK.get()
        return conn if hook is None else hook(self, conn)

    def observe(self) -> _Observe:
        """Track health from a real call: a backend failure marks the source down; any answer
        from the backend (even a 404 or 409) proves it up. Other exceptions say nothing."""
        return self._observer

    async def check(self, timeout: float) -> str | None:  # noqa: ASYNC109  (per source)
        """Run the default connector's readiness check; None when fine, else the reason."""
        try:
            async with asyncio.timeout(timeout):
                await self.connector(None).check()
        except TimeoutError:
            self.health = "down"
            return f"no answer within {timeout:g}s"
        except GatewayError as err:
            self.health = "down"
            return self._redactor.scrub_text(f"{err.error}: {err.msg}")
        except Exception as err:  # a connector bug must not take /readyz down with it
            self.health = "down"
            log.warning("source_check_failed", source=self.name, exc_info=True)
            return self._redactor.scrub_text(f"{type(err).__name__}: {err}")
        self.health = "ok"
        return None

    async def aclose(self) -> None:
        conns, self._connectors = list(self._connectors.values()), {}
        results = await asyncio.gather(*(c.aclose() for c in conns), return_exceptions=True)
        for res in results:
            if isinstance(res, BaseException):
                log.warning("connector_close_failed", source=self.name, error=repr(res))


class Sources:
    """Every configured source by name; owned by the app's cleanup context."""

    def __init__(self, sources: dict[str, Source], sessions: list[aiohttp.ClientSession]) -> None:
        self._sources = sources
        self._sessions = sessions
        self._ready: tuple[float, Readiness] | None = None
        self._ready_lock = asyncio.Lock()

    @classmethod
    async def open(cls, config: GatewayConfig, metrics: Metrics, redactor: Redactor) -> Sources:
        sources: dict[str, Source] = {}
        sessions: list[aiohttp.ClientSession] = []
        for name, cfg in config.sources.items():
            session = open_session(cfg)
            sessions.append(session)
            sources[name] = Source(name, config, session, metrics, redactor)
        return cls(sources, sessions)

    def __iter__(self) -> Iterator[Source]:
        return iter(self._sources.values())

    def __len__(self) -> int:
        return len(self._sources)

    def get(self, name: str) -> Source:
        try:
            return self._sources[name]
        except KeyError:
            raise NotFound(
                f"Unknown source '{name}'", key="unknown_source", params={"source": name}
            ) from None

    async def check_all(self, timeout: float) -> Readiness:  # noqa: ASYNC109  (per source)
        """Check every source concurrently; the answer is reused for a few seconds."""
        async with self._ready_lock:  # concurrent probes wait for one run instead of each running
            now = time.monotonic()
            if self._ready is None or now - self._ready[0] >= READY_CACHE_SECONDS:
                srcs = list(self._sources.values())
                reasons = await asyncio.gather(*(s.check(timeout) for s in srcs))
                report: dict[str, dict[str, str]] = {}
                for src, reason in zip(srcs, reasons, strict=True):
                    report[src.name] = {"status": "ok"} if reason is None else {
                        "status": "down", "reason": reason,
                    }
                self._ready = (time.monotonic(), Readiness(all(r is None for r in reasons), report))
            return self._with_breakers(self._ready[1])

    def _with_breakers(self, checked: Readiness) -> Readiness:
        """The (possibly cached) check with each breaker's state as of now laid over it."""
        report = dict(checked.sources)
        for src in self._sources.values():
            state = src.breaker.state
            if state != "closed":
                wait = math.ceil(src.breaker.retry_after())
                report[src.name] = {"status": state, "reason": (
                    f"circuit {state.replace('_', '-')} after repeated backend failures; "
                    f"next trial call in {wait}s" if state == "open" else
                    "circuit half-open: the next call is a trial"
                )}
        ready = all(entry["status"] == "ok" for entry in report.values())
        return Readiness(ready=ready, sources=report)

    async def aclose(self) -> None:
        """Connectors first (they may log out through the session), then the sessions."""
        await asyncio.gather(*(s.aclose() for s in self._sources.values()))
        await asyncio.gather(*(s.close() for s in self._sessions), return_exceptions=True)
