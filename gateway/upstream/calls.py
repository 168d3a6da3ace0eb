"""What whole and streamed backend calls share: the answer type and the per-attempt policies.

Per logical call, in the order style rule 7 lays out: breaker → retry → auth → metrics. The
breaker admits the call once (an open circuit refuses it before any attempt) and learns how it
ended; each attempt then checks the request's deadline, is signed (the token wait clipped to the
deadline), takes a bulkhead slot (bounded wait), is sent with a timeout of ``min(source timeout,
time left)``, and is counted and logged whatever happens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import BackendFailure, GatewayError, SourceInfo
from gateway.observability.logging import DEBUG, WARNING, HotLogger
from gateway.upstream import deadline
from gateway.upstream.breaker import BreakerCall, no_breaker
from gateway.upstream.context import UpstreamContext, record_call
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.tokens import Token, TokenCache

__all__ = ["CONSUMER_ABORTED", "AuthHeader", "CallBase", "Classifier", "UpstreamResponse"]

# One line per attempt: a failed one's warning, else a debug line (written at debug level only).
log = HotLogger("gateway.upstream")

_UNSET: Any = object()
# The status a backend attempt is counted and logged with when the consumer's side aborted it
# (hung up, stalled, sent too much): not the backend's failure, so not a warning either.
CONSUMER_ABORTED = "consumer_aborted"


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


class CallBase:
    """The policies around each attempt; :class:`gateway.upstream.client.Upstream` calls."""

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

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[BreakerCall]:
        """Breaker, bulkhead slot and deadline around a call a connector sends on ``session``
        itself (a hand-rolled file transfer): 503 or 504 before sending, as :meth:`request`
        would; set ``failed`` on the yielded call (True on a 5xx or a lost answer) so the
        breaker learns how it went (a ``BackendFailure`` escaping the block counts as failed).
        Not re-entrant: do not call ``request`` inside."""
        with self._breaker_call() as call:
            async with self._slot():
                self._timeout()
                try:
                    yield call
                except BackendFailure:
                    if call.failed is None:
                        call.failed = True
                    raise

    # -- breaker, deadline, bulkhead -----------------------------------------------------------

    def _breaker_call(self) -> BreakerCall:
        breaker = self.ctx.breaker
        return no_breaker() if breaker is None else breaker.call()

    def _timeout(self) -> tuple[float, bool]:
        """This attempt's timeout and whether the deadline cut it short; out of time → 504."""
        left = deadline.remaining()
        if left is None or left >= self.ctx.timeout:
            return self.ctx.timeout, False
        if left <= 0:
            raise deadline.expired(self.ctx.source)
        return left, True

    def _slot(self) -> AbstractAsyncContextManager[str | None]:
        bulkhead = self.ctx.bulkhead
        return nullcontext() if bulkhead is None else bulkhead

    @staticmethod
    def _judge(call: BreakerCall, outcome: int | BackendFailure, clipped: bool) -> None:
        """What an attempt says about the backend's health, for the breaker."""
        if isinstance(outcome, int):
            call.failed = outcome >= 500
        elif clipped and outcome.sent is not False:
            call.failed = None  # our deadline, not the backend, ran out first
        else:
            call.failed = True

    async def _pause(self, attempt: int, retry_after: float | None, err: GatewayError) -> None:
        await asyncio.sleep(self.policy.pause(attempt, retry_after, err))

    # -- signing ---------------------------------------------------------------------------------

    async def _sign(
        self, headers: Mapping[str, str] | None, auth: bool
    ) -> tuple[CIMultiDict[str], Token | None]:
        sent = CIMultiDict(headers or {})
        if not auth or self.tokens is None:
            return sent, None
        token = self.tokens.fresh() or await self._wait_token(self.tokens.get())
        if self._auth_header is not None:
            sent.update(self._auth_header(token.access))
        return sent, token

    async def _renew(self, refused: Token) -> None:
        assert self.tokens is not None
        await self._wait_token(self.tokens.invalidate(refused))

    async def _wait_token(self, pending: Awaitable[Token]) -> Token:
        """A token wait, clipped to the deadline (the renewal itself goes on for the others)."""
        left = deadline.remaining()
        if left is None:
            return await pending
        try:
            async with asyncio.timeout(max(left, 0.0)):
                return await pending
        except TimeoutError:
            raise deadline.expired(self.ctx.source) from None

    # -- answers and bookkeeping ----------------------------------------------------------------

    def _check_body(self, resp: UpstreamResponse) -> GatewayError | None:
        try:
            resp.json()
        except ValueError:
            return BackendFailure(
                "backend_not_json", {"source": self.ctx.source},
                sent=True, source=SourceInfo(self.ctx.source, resp.status, "malformed_body"),
            )
        return None

    def _observe(
        self, op: str, method: str, url: str, status: int | str, seconds: float, attempt: int
    ) -> None:
        """Count, time and log one attempt, whatever its outcome."""
        self.ctx.metrics.backend_call(self.ctx.source, op, status, seconds)
        record_call(seconds)
        # The access line counts every call; each one is worth its own line only when it
        # failed (or at debug level, when chasing a problem).
        failed = status != CONSUMER_ABORTED and (not isinstance(status, int) or status >= 400)
        level = WARNING if failed else DEBUG
        if log.enabled(level):
            log.log(level, "warning" if failed else "debug", "backend_call", {
                "source": self.ctx.source, "op": op, "method": method, "path": _path(url),
                "status": status, "ms": round(seconds * 1000, 1), "attempt": attempt,
            })

    def _refused_twice(self) -> BackendFailure:
        return BackendFailure(
            "backend_refused_token_twice", {"source": self.ctx.source},
            sent=True, source=SourceInfo(self.ctx.source, 401, None),
        )


def elapsed(started: float) -> float:
    return time.perf_counter() - started


def _path(url: str) -> str:
    """The path of an absolute URL, without its query (which may carry filters or secrets);
    plain string work, as this runs for every backend call."""
    start = url.find("/", url.find("//") + 2) if "//" in url else 0
    path = url[start:] if start >= 0 else "/"
    return path.split("?", 1)[0]
