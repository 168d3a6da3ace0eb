"""Upstream: one logical backend call with auth, 401 renewal, retries, error mapping and metrics.

Policy order per logical call, as style rule 7 lays out: retry → auth → metrics. Each attempt is
signed with the current token, sent, timed, counted and logged; a 401 on a signed call renews
the token (once for all concurrent callers) and resends once, since a 401 means the backend
refused before acting. This is a plain bounded loop rather than aiohttp client middlewares
because an attempt must include reading and decoding the body (a malformed or truncated answer
is retried for reads, and the per-call timeout must cover the body), which a middleware that
returns an unread ``ClientResponse`` cannot do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import structlog
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gateway.errors import BackendFailure, GatewayError, SourceInfo
from gateway.upstream.context import UpstreamContext, record_call
from gateway.upstream.errors import map_errors
from gateway.upstream.retry import RetryPolicy, parse_retry_after
from gateway.upstream.tokens import Token, TokenCache

__all__ = ["AuthHeader", "Classifier", "Upstream", "UpstreamResponse"]

log = structlog.get_logger("gateway.upstream")

_UNSET: Any = object()


@dataclass(slots=True)
class UpstreamResponse:
    """A backend's complete answer: status, headers, body bytes; ``json()`` decodes once."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    _decoded: Any = field(default=_UNSET, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not JSON."""
        if self._decoded is _UNSET:
            self._decoded = orjson.loads(self.body) if self.body else None
        return self._decoded

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


# (operation, non-2xx answer) -> the gateway error it means; the backend-specific table.
Classifier = Callable[[str, UpstreamResponse], GatewayError]
# access token -> headers that carry it (``{"OAuth-Token": t}``, ``{"Authorization": "Bearer t"}``)
AuthHeader = Callable[[str], Mapping[str, str]]


class Upstream:
    """What a connector calls its backend through; one per connector (one credential)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ctx: UpstreamContext,
        classify: Classifier,
        *,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.classify = classify
        self.policy = policy or RetryPolicy()
        self.tokens: TokenCache | None = None
        self._auth_header: AuthHeader | None = None

    def use_auth(self, tokens: TokenCache, header: AuthHeader) -> None:
        """Sign calls made with ``auth=True`` with tokens from ``tokens``."""
        self.tokens = tokens
        self._auth_header = header

    async def request(
        self,
        op: str,
        method: str,
        url: str,
        *,
        safe: bool,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        expect_json: bool = True,
    ) -> UpstreamResponse:
        """One logical call; returns a 2xx answer or raises a ``GatewayError``.

        ``safe``: repeating the call cannot change the backend twice (reads, whatever the HTTP
        method). ``expect_json``: a 2xx body that is not JSON is a backend failure.
        """
        retries_left = self.ctx.retries
        renewed = False
        # Bounded: every allowed retry plus one resend after a token renewal.
        for attempt in range(self.ctx.retries + 2):
            token = await self._token() if auth else None
            sent_headers = CIMultiDict(headers or {})
            if token is not None and self._auth_header is not None:
                sent_headers.update(self._auth_header(token.access))
            try:
                resp = await self._attempt(
                    op, method, url, params=params, json=json, data=data,
                    headers=sent_headers, attempt=attempt,
                )
            except BackendFailure as exc:
                if retries_left and self.policy.may_retry_error(exc, safe=safe):
                    retries_left -= 1
                    await asyncio.sleep(self._delay(attempt, None) or 0.0)
                    continue
                raise
            if resp.status == 401 and token is not None and not renewed:
                renewed = True
                assert self.tokens is not None
                await self.tokens.invalidate(token)
                continue
            if resp.ok:
                err = self._check_body(resp) if expect_json else None
                if err is None:
                    return resp
                retryable = safe
            else:
                err = self.classify(op, resp)
                retryable = self.policy.may_retry_status(resp.status, safe=safe)
            if retryable and retries_left:
                wait = self._delay(attempt, resp)
                if wait is not None:
                    retries_left -= 1
                    await asyncio.sleep(wait)
                    continue
            raise err
        raise BackendFailure(  # only reachable when every attempt was a 401 resend
            f"{self.ctx.source}: backend kept refusing the renewed token",
            sent=True, source=SourceInfo(self.ctx.source, 401, None),
        )

    async def _token(self) -> Token | None:
        if self.tokens is None:
            return None
        return await self.tokens.get()

    def _delay(self, attempt: int, resp: UpstreamResponse | None) -> float | None:
        retry_after = parse_retry_after(resp.headers.get("Retry-After")) if resp else None
        return self.policy.delay(attempt, retry_after)

    def _check_body(self, resp: UpstreamResponse) -> GatewayError | None:
        try:
            resp.json()
        except ValueError:
            return BackendFailure(
                f"{self.ctx.source}: backend answered with a body that is not JSON",
                sent=True, source=SourceInfo(self.ctx.source, resp.status, "malformed_body"),
            )
        return None

    async def _attempt(
        self,
        op: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        data: Any,
        headers: CIMultiDict[str],
        attempt: int,
    ) -> UpstreamResponse:
        """Send once, read the whole body, and count and log the attempt whatever happens."""
        started = time.perf_counter()
        status: int | str = "error"
        try:
            with map_errors(self.ctx.source):
                async with asyncio.timeout(self.ctx.timeout):
                    async with self.session.request(
                        method, url, params=params, json=json, data=data, headers=headers,
                    ) as raw:
                        body = await raw.read()
                        status = raw.status
                        return UpstreamResponse(raw.status, raw.headers, body)
        except BackendFailure as exc:
            status = exc.source.error if exc.source and exc.source.error else "error"
            raise
        finally:
            seconds = time.perf_counter() - started
            self.ctx.metrics.backend_call(self.ctx.source, op, status, seconds)
            record_call(seconds)
            # The access line counts every call; each one is worth its own line only when it
            # failed (or at debug level, when chasing a problem).
            failed = not isinstance(status, int) or status >= 400
            (log.warning if failed else log.debug)(
                "backend_call", source=self.ctx.source, op=op, method=method,
                path=URL(url).path, status=status, ms=round(seconds * 1000, 1), attempt=attempt,
            )
