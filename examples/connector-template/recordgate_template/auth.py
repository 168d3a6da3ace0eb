"""Where the template backend's tokens come from: ``POST /auth/login`` (used via TokenCache)."""

from __future__ import annotations

from gateway.kit.oauth2 import decode_token
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token
from recordgate_template.config import TemplateSource

__all__ = ["LoginTokens"]


class LoginTokens:
    """A TokenSource: logs the configured user in; a renewal is another login.

    The answer is OAuth2-shaped (``access_token``, ``expires_in``), so the kit's decoder reads
    it; a backend with a real OAuth2 endpoint uses ``gateway.kit.oauth2.PasswordGrant`` or
    ``ClientCredentials`` instead of a class like this one.
    """

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
        return decode_token(resp.json(), source=self._upstream.ctx.source,
                            issuer="Template backend")

    async def refresh(self, token: Token) -> Token:
        return await self.login()
