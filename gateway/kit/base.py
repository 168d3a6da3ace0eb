"""The base every HTTP connector is assembled on, and the client base its typed calls share.

:class:`HttpConnector` wires what each connector used to wire by hand, the same way each time:
one :class:`~gateway.upstream.client.Upstream` (retries, breaker, bulkhead, deadlines, metrics)
that classifies failures by the connector's error :class:`~gateway.kit.classify.Table`, a
:class:`~gateway.upstream.tokens.TokenCache` over the connector's token source (shared by
replicas when the state store is), the credentials registered with the log redactor, a
metadata cache, and the errors every connector raises alike (unknown entity, record or file not
found, an answer of the wrong shape). A connector keeps only what is its backend's own:
paths, query translation, record shapes.

    class AcmeConnector(HttpConnector):
        backend = "Acme"
        table = TABLE                          # gateway.kit.classify.Table

        def __init__(self, name, config, session, ctx, *, policy=None):
            super().__init__(name, config, session, ctx, policy=policy,
                             secrets=[config.auth.password.get_secret_value()])

        def token_source(self) -> TokenSource:
            return PasswordGrant(self.upstream, ..., issuer=self.backend)

        def auth_header(self, access: str) -> Mapping[str, str]:
            return {"Authorization": f"Bearer {access}"}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar

import aiohttp
from cachetools import TTLCache

from gateway.connector import EntityInfo
from gateway.errors import BackendFailure, GatewayError, NotFound, SourceInfo
from gateway.kit.classify import Table, by_table
from gateway.upstream.client import Upstream, UpstreamResponse
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.tokens import TokenCache, TokenSource
from gateway.upstream.urls import join

__all__ = ["METADATA_TTL", "BackendClient", "HttpConnector", "malformed"]

METADATA_TTL = 300.0  # seconds an entity's description is reused: the gateway describes per call


def malformed(source: str, backend: str, what: str, status: int = 200) -> BackendFailure:
    """A 2xx answer the connector cannot read: the backend acted (``sent``) but said nothing
    usable, so a write's outcome is unknown and it is never repeated."""
    return BackendFailure(
        key="malformed_answer", params={"source": source, "backend": backend, "what": what},
        sent=True, source=SourceInfo(source, status, "malformed_body"),
    )


class BackendClient:
    """Typed calls to one backend: URLs built step by step, JSON objects checked for shape."""

    backend: ClassVar[str] = "The backend"

    def __init__(self, upstream: Upstream, base_url: str) -> None:
        self.upstream = upstream
        self.base = base_url

    def url(self, *parts: str) -> str:
        """``base/part/part``, each part percent-encoded whole (``gateway.upstream.urls``)."""
        return join(self.base, *parts)

    def bad(self, what: str, status: int = 200) -> BackendFailure:
        return malformed(self.upstream.ctx.source, self.backend, what, status)

    async def object(self, op: str, method: str, url: str, **kw: Any) -> dict[str, Any]:
        """One call whose answer must be a JSON object."""
        body = (await self.upstream.request(op, method, url, **kw)).json()
        if not isinstance(body, dict):
            raise self.bad(op)
        return body


class HttpConnector:
    """What every HTTP connector has: its upstream, tokens, metadata cache and common errors.

    Subclasses set :attr:`backend` and :attr:`table` and implement :meth:`token_source` and
    :meth:`auth_header` (a backend without tokens returns None from ``token_source``). The
    config may name ``entities``: a mapping of the entities this source is limited to.
    """

    backend: ClassVar[str]
    table: ClassVar[Table]

    def __init__(
        self,
        name: str,
        config: Any,
        session: aiohttp.ClientSession,
        ctx: UpstreamContext,
        *,
        policy: RetryPolicy | None = None,
        token_skew: float = 60.0,
        secrets: Iterable[str] = (),
    ) -> None:
        self.name = name
        self.config = config
        self.upstream = Upstream(session, ctx, self.classify, policy=policy)
        source = self.token_source()
        self.tokens: TokenCache | None = None
        if source is not None:
            self.tokens = TokenCache(source, ctx, skew=token_skew)
            self.upstream.use_auth(self.tokens, self.auth_header)
        self.meta: TTLCache[str, EntityInfo] = TTLCache(maxsize=512, ttl=METADATA_TTL)
        for secret in secrets:
            ctx.redactor.add(secret)

    def classify(self, op: str, resp: UpstreamResponse) -> GatewayError:
        """The gateway error for a non-2xx answer to ``op`` (by :attr:`table`)."""
        return by_table(self.table, self.name, op, resp)

    def token_source(self) -> TokenSource | None:
        """Where this backend's tokens come from (``gateway.kit.oauth2`` has the usual ones)."""
        return None

    def auth_header(self, access: str) -> Mapping[str, str]:
        """The header(s) carrying an access token on each call."""
        return {"Authorization": f"Bearer {access}"}

    # -- the errors every connector raises alike ------------------------------------------------

    def unknown_entity(self, entity: str, source: SourceInfo | None = None) -> NotFound:
        return NotFound(key="unknown_entity", params={"source": self.name, "entity": entity},
                        source=source)

    def record_not_found(
        self, entity: str, record_id: str, source: SourceInfo | None = None
    ) -> NotFound:
        return NotFound(key="record_not_found",
                        params={"source": self.name, "entity": entity, "id": record_id},
                        source=source)

    def file_not_found(
        self, entity: str, record_id: str, field: str, source: SourceInfo | None = None
    ) -> NotFound:
        return NotFound(
            key="file_not_found", source=source,
            params={"source": self.name, "entity": entity, "id": record_id, "field": field},
        )

    def malformed(self, what: str, status: int = 200) -> BackendFailure:
        return malformed(self.name, self.backend, what, status)

    def check_entity(self, entity: str) -> None:
        """A source limited to configured entities knows no other (404 before any call)."""
        limited = getattr(self.config, "entities", None)
        if limited is not None and entity not in limited:
            raise self.unknown_entity(entity)

    async def described(
        self, entity: str, load: Callable[[], Awaitable[EntityInfo]]
    ) -> EntityInfo:
        """``entity``'s description from the cache, else from ``load`` (then cached)."""
        cached = self.meta.get(entity)
        if cached is not None:
            return cached
        info = await load()
        self.meta[entity] = info
        return info

    # -- lifecycle ------------------------------------------------------------------------------

    async def check(self) -> None:
        """Readiness of the source: a token proves the backend answers and takes our
        credentials (override to also ping the backend)."""
        if self.tokens is not None:
            await self.tokens.get()

    async def aclose(self) -> None:
        """Forget the token (the session is shared; override to log out as well)."""
        if self.tokens is not None:
            self.tokens.clear()
