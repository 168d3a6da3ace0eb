"""Where the template backend's tokens come from: ``POST /auth/login`` (used via TokenCache)."""

from __future__ import annotations

import time

from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token
from recordgate_template.config import TemplateSource

__all__ = ["LoginTokens", "bearer"]


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


class LoginTokens:
    """A TokenSource: logs the configured user in; a renewal is another login."""

    def __init__(self, upstream: Upstream, config: TemplateSource) -> None:
        self._upstream = upstream
        self._config = config

    async def login(self) -> Token:
        auth = self._config.auth
        body = {"username": auth.username, "password": auth.password.get_secret_value()}
        # A second login only yields a second token, so a lost answer may be retried (safe).
        resp = await self._upstream.request(
            "login", "POST", f"{self._config.base_url}/auth/login", json=body, safe=True,
            auth=False,
        )
        answer = resp.json()
        access = answer.get("access_token") if isinstance(answer, dict) else None
        lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
        if not isinstance(access, str) or not access or type(lifetime) is not int or lifetime <= 0:
            source = self._upstream.ctx.source
            raise BackendFailure(f"{source}: the login answer has no usable token", sent=True,
                                 source=SourceInfo(source, resp.status, "malformed_token"))
        return Token(access=access, expires_at=time.monotonic() + lifetime, lifetime=lifetime)

    async def refresh(self, token: Token) -> Token:
        return await self.login()
