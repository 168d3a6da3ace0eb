"""Upstream: one logical backend call with auth, 401 renewal, retries, error mapping and metrics.

Policy order per logical call, as style rule 7 lays out: retry → auth → metrics. Each attempt is
signed with the current token, sent, timed, counted and logged; a 401 on a signed call renews
the token (once for all concurrent callers) and resends once, since a 401 means the backend
refused before acting. This is a plain bounded loop rather than aiohttp client middlewares
because an attempt must include reading and decoding the body (a malformed or truncated answer
is retried for reads, and the per-call timeout must cover the body), which a middleware that
returns an unread ``ClientResponse`` cannot do.

``stream`` is the same policy for bodies too large to hold (files): it sends an async-iterable
body as it is produced and yields the open answer, so neither direction is ever held whole.
A streamed body can be sent once only, so an attempt that started sending it is never repeated.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import structlog
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import BackendFailure, GatewayError, SourceInfo
from gateway.upstream.context import UpstreamContext, record_call
from gateway.upstream.errors import map_errors
from gateway.upstream.retry import RetryPolicy, parse_retry_after
from gateway.upstream.tokens import Token, TokenCache

__all__ = ["AuthHeader", "Classifier", "Upstream", "UpstreamResponse"]

log = structlog.get_logger("gateway.upstream")

_UNSET: Any = object()
# An error answer is read whole to classify it; a backend sending megabytes there is not
# telling us anything more, so stop reading at this size.
_ERROR_BODY_MAX = 64 * 1024
STREAM_CHUNK = 64 * 1024


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
            self._observe(op, method, url, status, time.perf_counter() - started, attempt)

    def _observe(
        self, op: str, method: str, url: str, status: int | str, seconds: float, attempt: int
    ) -> None:
        """Count, time and log one attempt, whatever its outcome."""
        self.ctx.metrics.backend_call(self.ctx.source, op, status, seconds)
        record_call(seconds)
        # The access line counts every call; each one is worth its own line only when it
        # failed (or at debug level, when chasing a problem).
        failed = not isinstance(status, int) or status >= 400
        (log.warning if failed else log.debug)(
            "backend_call", source=self.ctx.source, op=op, method=method,
            path=_path(url), status=status, ms=round(seconds * 1000, 1), attempt=attempt,
        )

    # -- streamed calls (files) ---------------------------------------------------------------

    @asynccontextmanager
    async def stream(
        self,
        op: str,
        method: str,
        url: str,
        *,
        safe: bool,
        params: Mapping[str, str] | None = None,
        body: AsyncIterable[bytes] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One logical call whose bodies are streamed; yields the open 2xx answer.

        A non-2xx answer is read (up to 64 KiB), classified and raised before anything is
        yielded, so the caller only ever sees a success. ``body`` may be an async iterable of
        chunks, sent as it is produced (chunked unless ``headers`` carry a Content-Length);
        once it started flowing the call is never repeated, whatever ``safe`` says, since the
        chunks already sent are gone. Read the answer with :meth:`chunks` or :meth:`read`
        inside the block: they map transport failures to ``BackendFailure``. The per-call
        timeout applies to connecting and to each read, not to the whole transfer.
        """
        once = _OneShotBody(body) if isinstance(body, AsyncIterable) else None
        data: Any = once if once is not None else body
        retries_left = self.ctx.retries
        renewed = False
        resp: aiohttp.ClientResponse | None = None
        for attempt in range(self.ctx.retries + 2):
            token = await self._token() if auth else None
            sent_headers = CIMultiDict(headers or {})
            if token is not None and self._auth_header is not None:
                sent_headers.update(self._auth_header(token.access))
            try:
                raw = await self._open(op, method, url, params=params, data=data,
                                       headers=sent_headers, attempt=attempt)
            except BackendFailure as exc:
                replayable = once is None or not once.started
                if retries_left and replayable and self.policy.may_retry_error(exc, safe=safe):
                    retries_left -= 1
                    await asyncio.sleep(self._delay(attempt, None) or 0.0)
                    continue
                raise
            replayable = once is None or not once.started
            if raw.status == 401 and token is not None and not renewed:
                await self._error_answer(raw)
                assert self.tokens is not None
                await self.tokens.invalidate(token)
                if not replayable:
                    raise BackendFailure(
                        f"{self.ctx.source}: the backend refused our token after the upload "
                        "had started; the token is renewed, send the file again",
                        sent=True, source=SourceInfo(self.ctx.source, 401, "token_refused"),
                    )
                renewed = True
                continue
            if 200 <= raw.status < 300:
                resp = raw
                break
            answer = await self._error_answer(raw)
            err = self.classify(op, answer)
            if replayable and retries_left and self.policy.may_retry_status(raw.status, safe=safe):
                wait = self._delay(attempt, answer)
                if wait is not None:
                    retries_left -= 1
                    await asyncio.sleep(wait)
                    continue
            raise err
        if resp is None:  # only reachable when every attempt was a 401 resend
            raise BackendFailure(
                f"{self.ctx.source}: backend kept refusing the renewed token",
                sent=True, source=SourceInfo(self.ctx.source, 401, None),
            )
        try:
            yield resp
        finally:
            # Closing (not releasing) an answer the caller did not read to the end drops the
            # connection instead of draining the rest of a large body into the pool.
            if resp.content.at_eof():
                resp.release()
            else:
                resp.close()

    async def chunks(
        self, resp: aiohttp.ClientResponse, size: int = STREAM_CHUNK
    ) -> AsyncIterator[bytes]:
        """The open answer's body as it arrives; a cut-off or stalled body is a BackendFailure."""
        while True:
            with map_errors(self.ctx.source):
                chunk = await resp.content.read(size)
            if not chunk:
                return
            yield chunk

    async def read(
        self, resp: aiohttp.ClientResponse, *, expect_json: bool = True
    ) -> UpstreamResponse:
        """The rest of an open (small) answer, as :meth:`request` returns it."""
        with map_errors(self.ctx.source):
            body = await resp.read()
        answer = UpstreamResponse(resp.status, resp.headers, body)
        err = self._check_body(answer) if expect_json else None
        if err is not None:
            raise err
        return answer

    async def _error_answer(self, raw: aiohttp.ClientResponse) -> UpstreamResponse:
        """A non-2xx answer, read up to a bound, for the classifier; the connection is closed
        when the body was longer (or broken) rather than drained."""
        try:
            with map_errors(self.ctx.source):
                body = await raw.content.read(_ERROR_BODY_MAX)
        except BackendFailure:
            body = b""
        if raw.content.at_eof():
            raw.release()
        else:
            raw.close()
        return UpstreamResponse(raw.status, raw.headers, body)

    async def _open(
        self,
        op: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        data: Any,
        headers: CIMultiDict[str],
        attempt: int,
    ) -> aiohttp.ClientResponse:
        """Send once and return the answer with only its head read; counted and logged."""
        started = time.perf_counter()
        status: int | str = "error"
        # No total: a large file legitimately takes longer than one call's timeout. aiohttp
        # starts the read timer once the request body is sent, so it bounds each wait.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=min(self.ctx.timeout, 10.0), sock_read=self.ctx.timeout
        )
        try:
            with map_errors(self.ctx.source):
                raw = await self.session.request(
                    method, url, params=params, data=data, headers=headers, timeout=timeout,
                    allow_redirects=False,  # a redirect would resend a body we no longer have
                )
            status = raw.status
            return raw
        except BackendFailure as exc:
            status = exc.source.error if exc.source and exc.source.error else "error"
            raise
        finally:
            self._observe(op, method, url, status, time.perf_counter() - started, attempt)


def _path(url: str) -> str:
    """The path of an absolute URL, without its query (which may carry filters or secrets);
    plain string work, as this runs for every backend call."""
    start = url.find("/", url.find("//") + 2) if "//" in url else 0
    path = url[start:] if start >= 0 else "/"
    return path.split("?", 1)[0]


class _OneShotBody:
    """An async-iterable request body that knows whether it started flowing (and so can no
    longer be sent again)."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.started = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._flow()

    async def _flow(self) -> AsyncIterator[bytes]:
        if self.started:
            raise RuntimeError("a streamed request body can be sent only once")
        self.started = True
        async for chunk in self._chunks:
            yield chunk
