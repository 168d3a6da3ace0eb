"""The configured sources: a session each, connectors per org made lazily, health per org."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import aiohttp
import structlog

from gateway import registry
from gateway.config.base import SourceBase
from gateway.config.load import ConfigError, format_path
from gateway.errors import (
    BackendFailure,
    BackendUnavailable,
    Forbidden,
    GatewayError,
    MethodNotAllowed,
    NotFound,
    Unsupported,
)
from gateway.observability.metrics import Metrics
from gateway.observability.redact import Redactor
from gateway.state.lock import RecordLocks
from gateway.upstream.breaker import Breaker, State
from gateway.upstream.bulkhead import Bulkhead
from gateway.upstream.context import UpstreamContext
from gateway.upstream.session import open_session
from gateway.upstream.shared_tokens import SharedTokens, credential_key
from gateway.views.config import ViewSource
from gateway.views.config import problems as view_problems
from gateway.views.connector import ViewConnector

if TYPE_CHECKING:
    from gateway.config.model import Consumer, GatewayConfig
    from gateway.connector import Connector, EntityInfo

__all__ = ["HEALTH_FRESH_SECONDS", "Health", "Source", "SourceHealth", "Sources", "View"]

Health = Literal["ok", "down", "unknown"]
log = structlog.get_logger("gateway.sources")
# Retry-After of a view whose member could not be described yet (it is being described).
PENDING_RETRY = 5.0

# An observation (a real call's outcome or a check) younger than this answers /v1/sources without
# a new check; older ones are re-checked, once per credentials however many consumers ask.
HEALTH_FRESH_SECONDS = 5.0

# Which credentials the last connector handed out in this task serves, per source: a handler
# asks ``source.connector(org)`` and then observes its calls with ``source.observe()``, so the
# outcome is written to the health of those credentials, never to another org's.
_SERVING: ContextVar[tuple[Source, str | None] | None] = ContextVar(
    "gateway_serving_credentials", default=None
)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What one org sees of a source: its credentials' last known health, why it is down (a
    stable error id, never backend text), and the source's circuit breaker (shared by all)."""

    health: Health
    reason: str | None
    circuit: State


@dataclass(slots=True)
class _Observed:
    """The last observation of one set of credentials on one source."""

    health: Health = "unknown"
    reason: str | None = None
    at: float = float("-inf")  # monotonic time of the observation
    lock: asyncio.Lock | None = None  # made on first check (needs a running loop)

    def note(self, health: Health, reason: str | None = None) -> None:
        self.health, self.reason, self.at = health, reason, time.monotonic()

    def fresh(self) -> bool:
        return time.monotonic() - self.at < HEALTH_FRESH_SECONDS


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
        if kind is not None and not isinstance(exc, GatewayError):
            return
        serving = _SERVING.get()
        if serving is None or serving[0] is not self._source:
            return  # no connector of this source was handed out here: whose health is unknown
        observed = self._source.observed(serving[1])
        if isinstance(exc, BackendFailure):
            observed.note("down", exc.error)
        elif not isinstance(exc, GatewayError) or exc.source is not None:
            observed.note("ok")  # an answer, or the backend's own refusal (a 404, a 409)


class Source:
    """One configured source: its session, its connectors (one per org with own credentials,
    else one shared), and the last known health of each of those credentials."""

    def __init__(
        self,
        name: str,
        config: GatewayConfig,
        session: aiohttp.ClientSession,
        metrics: Metrics,
        redactor: Redactor,
        locks: RecordLocks | None = None,
    ) -> None:
        self.name = name
        self._locks = locks
        self._gateway = config
        self.config: SourceBase = config.backends()[name]
        self.type: str = self.config.type
        self._session = session
        self._metrics = metrics
        self._redactor = redactor
        self._connectors: dict[str | None, Connector] = {}
        # credentials (org with its own, None for the source's) -> last observation
        self._observed: dict[str | None, _Observed] = {}
        self._observer = _Observe(self)
        # One breaker and one bulkhead per source, shared by every org's connector: the backend
        # is one service whatever credentials reach it.
        self.breaker = Breaker(
            name, failures=self.config.breaker.failures,
            open_seconds=self.config.breaker.openSeconds, metrics=metrics,
        )
        self.bulkhead = Bulkhead(
            name, max_in_flight=self.config.maxInFlight, queue_timeout=self.config.queueTimeout,
            max_per_consumer=self.config.consumer_share, metrics=metrics,
        )

    def _credentials_org(self, org: str | None) -> str | None:
        """The org whose own credentials serve ``org`` on this source, None for the default."""
        if org is None:
            return None
        override = self._gateway.orgs.get(org)
        if override is not None and self.name in override.sources:
            return org
        return None

    def connector(self, org: str | None, consumer: Consumer | None = None) -> Connector:
        """The connector serving ``org``: built on first use (factories are synchronous, so two
        concurrent first calls cannot build two). ``consumer``: whose scopes it serves (a view
        needs it; a backend's connector serves every consumer alike)."""
        key = self._credentials_org(org)
        conn = self._connectors.get(key)
        if conn is None:
            cfg = self.config if key is None else self._gateway.source_config(self.name, key)
            ctx = UpstreamContext(
                source=self.name, org=key, timeout=cfg.timeout, retries=cfg.retries,
                metrics=self._metrics, redactor=self._redactor,
                breaker=self.breaker, bulkhead=self.bulkhead, locks=self._locks,
                tokens=self._shared_tokens(key, cfg),
            )
            conn = registry.get_type(cfg.type).factory(self.name, cfg, self._session, ctx)
            self._connectors[key] = conn
        _SERVING.set((self, key))
        return conn

    def _shared_tokens(self, org: str | None, cfg: SourceBase) -> SharedTokens | None:
        """Where replicas share this credential's token (a redis state store), else None."""
        secret = self._gateway.state.secretKey
        if self._locks is None or self._gateway.state.backend != "redis" or secret is None:
            return None
        # Secrets dump masked: the key changes with the user or URL, not with a new password.
        key = credential_key(self.name, org, cfg.model_dump_json())
        return SharedTokens(self._locks, secret.get_secret_value(), key)

    def observe(self) -> _Observe:
        """Track health from a real call, for the credentials of the connector last handed out
        here: a backend failure marks them down; any answer from the backend (even a 404 or
        409) proves them up. Errors the gateway raised itself say nothing."""
        return self._observer

    def observed(self, key: str | None) -> _Observed:
        """The last observation of one set of credentials (an org with its own, or None)."""
        found = self._observed.get(key)
        if found is None:
            found = self._observed[key] = _Observed()
        return found

    def health(self, org: str | None) -> SourceHealth:
        """What ``org`` sees: its own credentials' last known health, no check made."""
        observed = self.observed(self._credentials_org(org))
        return SourceHealth(observed.health, observed.reason, self.breaker.state)

    async def probe(self, org: str | None, timeout: float) -> SourceHealth:  # noqa: ASYNC109
        """``org``'s health, checked on the backend when the last observation is stale: one
        check per credentials at a time, its answer shared by every caller waiting for it.
        While the circuit is open no check is sent (it would be refused): the source is down."""
        key = self._credentials_org(org)
        observed = self.observed(key)
        if self.breaker.state == "open":
            observed.note("down", "backend_unavailable")
        elif not observed.fresh():
            if observed.lock is None:
                observed.lock = asyncio.Lock()
            async with observed.lock:
                if not observed.fresh():  # nobody checked while we waited
                    await self._check(org, observed, timeout)
        return SourceHealth(observed.health, observed.reason, self.breaker.state)

    async def _check(self, org: str | None, observed: _Observed, timeout: float) -> None:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                await self.connector(org).check()
        except TimeoutError:
            observed.note("down", "backend_timeout")
        except GatewayError as err:
            observed.note("down" if isinstance(err, BackendFailure) else "ok",
                          err.error if isinstance(err, BackendFailure) else None)
        except Exception:  # a connector bug must not take /v1/sources down with it
            log.warning("source_check_failed", source=self.name, exc_info=True)
            observed.note("down", "internal_error")
        else:
            observed.note("ok")

    async def aclose(self) -> None:
        conns, self._connectors = list(self._connectors.values()), {}
        results = await asyncio.gather(*(c.aclose() for c in conns), return_exceptions=True)
        for res in results:
            if isinstance(res, BaseException):
                log.warning("connector_close_failed", source=self.name, error=repr(res))


class View(Source):
    """A ``type: view`` source (spec §12): no session or backend of its own. Per org and per
    set of members the consumer may read, a :class:`ViewConnector` over the members' own
    connectors; a member the consumer may not read is pruned (never called) where the view
    entity says ``partial: allow``, else the entity answers 403."""

    def __init__(self, name: str, config: GatewayConfig, view: ViewSource,
                 members: dict[str, Source], described: dict[tuple[str, str], EntityInfo],
                 metrics: Metrics) -> None:
        self.name = name
        self._gateway = config
        self.view = view
        self.type = "view"
        self._members = members
        self._described = described
        self._views: dict[tuple[tuple[str | None, ...], frozenset[tuple[str, str]]],
                          ViewConnector] = {}
        self._describing: asyncio.Task[None] | None = None
        self._connectors = {}
        self._observed = {}
        self._observer = _Observe(self)
        self.breaker = Breaker(name, failures=5, open_seconds=30.0, metrics=metrics)

    def connector(self, org: str | None, consumer: Consumer | None = None) -> Connector:
        """The view as ``consumer`` may read it for ``org``; without a consumer there are no
        scopes to apply, so asking is a bug (refused rather than served unscoped)."""
        if consumer is None:
            raise RuntimeError(f"view source {self.name!r} needs the consumer whose scopes apply")
        allowed = frozenset((m.source, m.entity) for e in self.view.entities.values()
                            for m in e.from_ if consumer.allows_entity(m.source, m.entity))
        missing = [key for key in allowed if key not in self._described]
        if missing:
            raise self._pending(missing)
        creds = tuple(self._members[s]._credentials_org(org) for s in sorted(self._members))
        key = (creds, allowed)
        conn = self._views.get(key)
        if conn is None:
            conn = self._views[key] = self._build(org, allowed)
        _SERVING.set((self, None))
        return conn

    def _pending(self, missing: list[tuple[str, str]]) -> BackendUnavailable:
        """503 while a member that could not be reached at startup is not described yet; the
        first such call starts describing it in the background (one attempt at a time)."""
        if self._describing is None or self._describing.done():
            self._describing = asyncio.create_task(self._describe(missing))
        source, entity = sorted(missing)[0]
        return BackendUnavailable("view_member_unavailable", {
            "view": self.name, "member": f"{source}/{entity}"}, retry_after=PENDING_RETRY)

    async def _describe(self, missing: list[tuple[str, str]]) -> None:
        found: dict[tuple[str, str], EntityInfo] = {}
        for source, entity in missing:
            try:
                found[source, entity] = await self._members[source].connector(None).describe(
                    entity)
            except GatewayError as exc:
                log.warning("view_member_undescribed", view=self.name, member=source,
                            entity=entity, error=exc.error)
                return
        known: dict[str, dict[str, EntityInfo] | None] = {n: None for n in self._members}
        for (source, entity), info in {**self._described, **found}.items():
            known[source] = {**(known[source] or {}), entity: info}
        bad = view_problems(self.name, self.view, known)
        if bad:  # the config is wrong for this member: say so, keep answering 503
            log.error("view_member_misfits", view=self.name,
                      problems=[f"{format_path(loc)}: {why}" for loc, why in bad])
            return
        self._described.update(found)
        self._views.clear()

    def _build(self, org: str | None, allowed: frozenset[tuple[str, str]]) -> ViewConnector:
        entities = {}
        forbidden: dict[str, Callable[[], GatewayError]] = {}
        members: dict[tuple[str, str], tuple[Connector, EntityInfo]] = {}
        for ename, entity in self.view.entities.items():
            kept = [m for m in entity.from_ if (m.source, m.entity) in allowed]
            refused = [m for m in entity.from_ if (m.source, m.entity) not in allowed]
            if refused and entity.partial != "allow":
                forbidden[ename] = partial(Forbidden, "view_member_not_allowed", {
                    "view": f"{self.name}/{ename}",
                    "member": f"{refused[0].source}/{refused[0].entity}"})
            entities[ename] = entity.model_copy(update={"from_": kept})
            for m in kept:
                members[m.source, m.entity] = (self._members[m.source].connector(org),
                                               self._described[m.source, m.entity])
        return ViewConnector(self.name, self.view.model_copy(update={"entities": entities}),
                             members, max_scan=self._gateway.server.maxScanRecords,
                             forbidden=forbidden)

    def refuse_write(self, entity: str, create: bool) -> None:
        """Writes through a view are not available yet (spec §12 names them; this gateway
        answers reads only): POST is 405 unless the entity names ``createIn``."""
        config = self.view.entities.get(entity)
        if config is None:
            raise NotFound("unknown_entity", {"entity": entity})
        params = {"source": self.name, "entity": entity}
        if create and config.createIn is None:
            raise MethodNotAllowed("view_create_not_allowed", params)
        raise Unsupported("view_writes_unavailable", params)

    async def _check(self, org: str | None, observed: _Observed, timeout: float) -> None:  # noqa: ASYNC109
        observed.note("ok")  # nothing of its own: each member source is checked as itself

    async def aclose(self) -> None:
        if self._describing is not None:
            self._describing.cancel()
        self._views.clear()  # the members' connectors belong to their own sources


async def _describe_members(
    config: GatewayConfig, sources: dict[str, Source]
) -> dict[tuple[str, str], EntityInfo]:
    """Every view member's entity, described with its source's own credentials; a view whose
    members do not fit (spec §12 checks: gateway/views/config.py ``problems``) is a config
    error naming the key."""
    described: dict[tuple[str, str], EntityInfo] = {}
    by_source: dict[str, dict[str, EntityInfo] | None] = {n: {} for n in config.backends()}
    problems: list[tuple[str, str]] = []
    for name, view in config.views().items():
        for ename, entity in view.entities.items():
            for i, m in enumerate(entity.from_):
                if (m.source, m.entity) in described or m.source not in sources:
                    continue
                found = by_source[m.source]
                if found is None:
                    continue  # its backend could not be reached: described on first use
                try:
                    info = await sources[m.source].connector(None).describe(m.entity)
                except NotFound:
                    continue
                except BackendFailure as exc:
                    # Unreachable now: not the config's fault, and no reason to keep every
                    # other source down. The view describes it on first use (503 meanwhile).
                    log.warning("view_member_undescribed", view=name, member=m.source,
                                entity=m.entity, error=exc.error)
                    by_source[m.source] = None
                    continue
                except GatewayError as exc:
                    where = format_path(("sources", name, "entities", ename, "from", i))
                    problems.append((where, f"{m.source}/{m.entity} could not be described "
                                            f"({exc.error}: {exc.msg})"))
                    continue
                described[m.source, m.entity] = found[m.entity] = info
    for name, view in config.views().items():
        problems.extend((format_path(loc), reason)
                        for loc, reason in view_problems(name, view, by_source))
    if problems:
        raise ConfigError("sources", problems)
    return described


class Sources:
    """Every configured source by name; owned by the app's cleanup context."""

    def __init__(self, sources: dict[str, Source], sessions: list[aiohttp.ClientSession]) -> None:
        self._sources = sources
        self._sessions = sessions
        self.closed = False

    @classmethod
    async def open(cls, config: GatewayConfig, metrics: Metrics, redactor: Redactor,
                   locks: RecordLocks | None = None) -> Sources:
        """``locks``: the record locks every source's connectors share (in the state store)."""
        sources: dict[str, Source] = {}
        sessions: list[aiohttp.ClientSession] = []
        for name, cfg in config.backends().items():
            session = open_session(cfg)
            sessions.append(session)
            sources[name] = Source(name, config, session, metrics, redactor, locks)
        views = config.views()
        if views:
            try:
                described = await _describe_members(config, sources)
            except BaseException:
                await cls(sources, sessions).aclose()
                raise
            for name, view in views.items():
                sources[name] = View(name, config, view, sources, described, metrics)
        return cls({n: sources[n] for n in config.sources}, sessions)

    def __iter__(self) -> Iterator[Source]:
        return iter(self._sources.values())

    def __len__(self) -> int:
        return len(self._sources)

    def get(self, name: str) -> Source:
        try:
            return self._sources[name]
        except KeyError:
            raise NotFound("unknown_source", {"source": name}) from None

    async def aclose(self) -> None:
        """Connectors first (they may log out through the session), then the sessions."""
        self.closed = True
        await asyncio.gather(*(s.aclose() for s in self._sources.values()))
        await asyncio.gather(*(s.close() for s in self._sessions), return_exceptions=True)
