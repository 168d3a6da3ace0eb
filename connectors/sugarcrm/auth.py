"""Sugar OAuth2 tokens: password grant, rotating refresh grant, logout (used via TokenCache)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from connectors.sugarcrm.config import SugarSource
from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token

__all__ = ["SugarTokenSource", "auth_header"]


def auth_header(access: str) -> Mapping[str, str]:
    return {"OAuth-Token": access}


class SugarTokenSource:
    """Gets tokens from ``POST /oauth2/token`` for one configured Sugar user."""

    def __init__(self, upstream: Upstream, config: SugarSource) -> None:
        self._upstream = upstream
        self._config = config
        self._url = f"{config.base_url}/oauth2/token"

    def _client(self) -> dict[str, str]:
        auth = self._config.auth
        return {
            "client_id": auth.clientId,
            "client_secret": auth.clientSecret.get_secret_value(),
            "platform": auth.platform,
        }

    async def login(self) -> Token:
        auth = self._config.auth
        body = {
            "grant_type": "password",
            "username": auth.username,
            "password": auth.password.get_secret_value(),
            **self._client(),
        }
        # A repeated login only starts another session, so it may be retried like a read.
        resp = await self._upstream.request(
            "login", "POST", self._url, json=body, safe=True, auth=False
        )
        return self._token(resp.json())

    async def refresh(self, token: Token) -> Token:
        body = {"grant_type": "refresh_token", "refresh_token": token.refresh, **self._client()}
        # Not repeated: Sugar rotates refresh tokens, so a lost answer has consumed ours; the
        # TokenCache then logs in afresh.
        resp = await self._upstream.request(
            "refresh", "POST", self._url, json=body, safe=False, auth=False
        )
        return self._token(resp.json())

    async def logout(self, token: Token) -> None:
        await self._upstream.request(
            "logout", "POST", f"{self._config.base_url}/oauth2/logout",
            json={"refresh_token": token.refresh} if token.refresh else {},
            headers=auth_header(token.access), safe=False, auth=False,
        )

    def _token(self, body: Any) -> Token:
        source = self._upstream.ctx.source
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise BackendFailure(
                f"{source}: SugarCRM token answer has no access_token",
                sent=True, source=SourceInfo(source, 200, "malformed_token"),
            )
        lifetime = body.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
        refresh = body.get("refresh_token")
        return Token(
            access=body["access_token"],
            expires_at=time.monotonic() + lifetime,
            lifetime=lifetime,
            refresh=refresh if isinstance(refresh, str) else None,
        )
