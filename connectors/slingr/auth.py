"""Slingr login tokens: ``POST /auth/login``, the ``token`` header (used via TokenCache).

Slingr has no refresh token and documents a sliding idle expiry (~8 h) plus early invalidation,
so a token is treated as long-lived and renewed only when a call is refused with 401; the
TokenCache makes that one login for all concurrent callers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from connectors.slingr.config import SlingrSource
from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token

__all__ = ["TOKEN_LIFETIME", "SlingrTokenSource", "auth_header"]

# No expiry is announced; a year keeps TokenCache from renewing on its own clock.
TOKEN_LIFETIME = 365 * 24 * 3600.0


def auth_header(access: str) -> Mapping[str, str]:
    return {"token": access}


class SlingrTokenSource:
    """Logs the configured user in; a login-only TokenSource."""

    def __init__(self, upstream: Upstream, config: SlingrSource) -> None:
        self._upstream = upstream
        self._config = config
        self._url = f"{config.base_url}/auth/login"

    async def login(self) -> Token:
        auth = self._config.auth
        body: dict[str, str] = {"email": auth.email, "password": auth.password.get_secret_value()}
        if auth.emailImpersonatedUser:
            body["emailImpersonatedUser"] = auth.emailImpersonatedUser
        # Logging in twice only yields a second token, so a lost answer may be retried.
        resp = await self._upstream.request(
            "login", "POST", self._url, json=body, safe=True, auth=False
        )
        return self._token(resp.json())

    async def refresh(self, token: Token) -> Token:
        """Slingr has no refresh grant: a renewal is a new login."""
        return await self.login()

    def _token(self, body: Any) -> Token:
        source = self._upstream.ctx.source
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise BackendFailure("malformed_token", {"source": source, "issuer": "Slingr login"},
                                 sent=True, source=SourceInfo(source, 200, "malformed_token"))
        return Token(
            access=token,
            expires_at=time.monotonic() + TOKEN_LIFETIME,
            lifetime=TOKEN_LIFETIME,
        )
