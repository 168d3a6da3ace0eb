"""TokenCache: single-flight acquire/renew of one credential's token, expiry skew, renew on 401.

A failed renewal is ``backend_auth_failed`` (or the backend failure that stopped it) for its
waiters, never a loop: a refused refresh falls back to one login, a refused login ends it.

With a shared token store on the context (``state.backend: redis``), a renewal first looks for
a token another replica stored, and renews only while holding the credential's lock in the
store, from the stored pair (a rotating backend's refresh token is spent once, by one holder);
the token stays cached in the process, so the hot path makes no store round trip.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from gateway.errors import BackendAuthFailed, Conflict
from gateway.state.base import StateUnavailable
from gateway.upstream.context import UpstreamContext
from gateway.upstream.deadline import DEADLINE

if TYPE_CHECKING:
    from gateway.upstream.shared_tokens import SharedTokens

__all__ = ["Token", "TokenCache", "TokenSource"]

log = structlog.get_logger("gateway.tokens")


@dataclass(frozen=True, slots=True)
class Token:
    """An access token; ``expires_at`` is on the cache's clock (monotonic seconds)."""

    access: str
    expires_at: float
    lifetime: float
    refresh: str | None = None


class TokenSource(Protocol):
    """Where a backend's tokens come from (the connector's auth module)."""

    async def login(self) -> Token:
        """A fresh token from the configured credentials; ``BackendAuthFailed`` if refused."""
        ...

    async def refresh(self, token: Token) -> Token:
        """A new token from ``token.refresh``; ``BackendAuthFailed`` if that is refused."""
        ...


class TokenCache:
    """One credential's current token, renewed by at most one task at a time.

    Callers that find the token stale or refused join the one renewal in flight (or start it);
    the rest see that the token changed and reuse it, so N concurrent calls with an expired
    token cost one token call. The renewal runs as a task of its own, outside any caller's
    deadline: a caller that gives up (its deadline, its client gone) stops waiting, but the
    renewal goes on and stores its token, since a rotating backend has already spent the old
    refresh token, and no second renewal can start beside it.
    """

    def __init__(
        self,
        source: TokenSource,
        ctx: UpstreamContext,
        *,
        skew: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._ctx = ctx
        self._skew = skew
        self._clock = clock
        self._token: Token | None = None
        self._renewing: asyncio.Task[Token] | None = None

    @property
    def current(self) -> Token | None:
        return self._token

    def _fresh(self, token: Token | None) -> bool:
        if token is None:
            return False
        # Renew a little before expiry so a call is never sent with a token about to die.
        margin = min(self._skew, token.lifetime * 0.1)
        return self._clock() < token.expires_at - margin

    def fresh(self) -> Token | None:
        """The current token when it is good for a while yet, without waiting for anything."""
        token = self._token
        return token if self._fresh(token) else None

    async def get(self) -> Token:
        """A token valid for a while yet, renewing (once for all waiters) when needed."""
        token = self._token
        if self._fresh(token):
            assert token is not None
            return token
        return await self._join()

    async def invalidate(self, failed: Token) -> Token:
        """The backend refused ``failed``: renew unless another task already did."""
        if self._token is not None and self._token is not failed:
            return self._token
        return await self._join()

    def clear(self) -> Token | None:
        """Forget the token (on close); returns it so the caller may revoke it, unless it is
        shared with other replicas (revoking it would log them all out)."""
        if self._renewing is not None:
            self._renewing.cancel()
        token, self._token = self._token, None
        return None if self._ctx.tokens is not None else token

    async def _join(self) -> Token:
        task = self._renewing
        if task is None:
            # No await between the check and the start: two callers cannot both start one.
            context = contextvars.copy_context()
            context.run(DEADLINE.set, None)
            task = asyncio.create_task(self._store(), context=context)
            task.add_done_callback(_retrieve)
            self._renewing = task
        return await asyncio.shield(task)

    async def _store(self) -> Token:
        """Renew and store the token before anyone can use it (a rotated refresh token is
        kept even when every caller has gone)."""
        try:
            shared = self._ctx.tokens
            old = self._token
            self._token = await (self._renew(old) if shared is None
                                 else self._renew_shared(shared, old))
            return self._token
        finally:
            if self._renewing is asyncio.current_task():
                self._renewing = None

    def _usable(self, stored: Token | None, old: Token | None) -> bool:
        """A stored token this process may take instead of renewing: good for a while yet and
        not the one that was found stale or refused."""
        return self._fresh(stored) and (old is None or stored is None or
                                        stored.access != old.access)

    async def _load(self, shared: SharedTokens) -> Token | None:
        try:
            return await shared.load()
        except StateUnavailable:
            return None

    def _adopt(self, token: Token) -> Token:
        self._ctx.redactor.add(token.access)
        self._ctx.redactor.add(token.refresh)
        return token

    async def _renew_shared(self, shared: SharedTokens, old: Token | None) -> Token:
        """Take the token another replica stored, else renew under the credential's lock."""
        try:
            stored = await shared.load()
        except StateUnavailable:
            # The store is down: renew in this process now rather than wait on it twice more.
            log.warning("token_store_unavailable", source=self._ctx.source)
            return await self._renew(old)
        if self._usable(stored, old):
            assert stored is not None
            return self._adopt(stored)
        hold = shared.hold()
        try:
            await hold.__aenter__()
        except (StateUnavailable, Conflict) as exc:
            # The store is down, or another replica held the lock past recordLockWait: renew
            # in this process rather than fail the callers (at worst one extra login).
            log.warning("token_lock_unavailable", source=self._ctx.source, error=type(exc).__name__)
            stored = await self._load(shared)
            if self._usable(stored, old):
                assert stored is not None
                return self._adopt(stored)
            return await self._renew(stored or old)
        try:
            stored = await self._load(shared)  # the holder before us may have renewed it
            if self._usable(stored, old):
                assert stored is not None
                return self._adopt(stored)
            # The stored pair is the one to renew from: a rotated refresh token lives only there.
            token = await self._renew(stored or old)
            try:
                await shared.save(token)
            except StateUnavailable:
                log.warning("token_store_failed", source=self._ctx.source)
            return token
        finally:
            await hold.__aexit__(None, None, None)

    async def _renew(self, old: Token | None) -> Token:
        if old is not None and old.refresh:
            try:
                token = await self._fetch("refresh", self._source.refresh(old))
            except BackendAuthFailed:
                # A used, expired or evicted refresh token: start a new session instead.
                token = await self._fetch("login", self._source.login())
        else:
            token = await self._fetch("login", self._source.login())
        return self._adopt(token)

    async def _fetch(self, kind: str, call: Awaitable[Token]) -> Token:
        counter = self._ctx.metrics.token_fetches
        try:
            token = await call
        except BackendAuthFailed:
            counter.labels(self._ctx.source, kind, "refused").inc()
            raise
        except Exception:
            counter.labels(self._ctx.source, kind, "error").inc()
            raise
        counter.labels(self._ctx.source, kind, "ok").inc()
        return token


def _retrieve(task: asyncio.Task[Token]) -> None:
    """Mark a renewal's failure as seen: its waiters may all have gone before it ended."""
    if not task.cancelled():
        task.exception()
