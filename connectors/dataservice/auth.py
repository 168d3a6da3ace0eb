"""Data Service tokens: OAuth2 client-credentials grant at UiPath identity (via TokenCache)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from connectors.dataservice.config import DataServiceSource
from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token

__all__ = ["DataServiceTokenSource", "auth_header"]

_DEFAULT_LIFETIME = 3600.0  # the documented one hour, when the answer omits expires_in


def auth_header(access: str) -> Mapping[str, str]:
    return {"Authorization": f"Bearer {access}"}


class DataServiceTokenSource:
    """Gets tokens for one external application; a client-credentials grant has no refresh
    token, so renewing is asking again."""

    def __init__(self, upstream: Upstream, config: DataServiceSource) -> None:
        self._upstream = upstream
        self._config = config
        self._url = str(config.auth.tokenUrl)

    async def login(self) -> Token:
        auth = self._config.auth
        form = {
            "grant_type": "client_credentials",
            "client_id": auth.clientId,
            "client_secret": auth.clientSecret.get_secret_value(),
            "scope": auth.scope,
        }
        # Identity wants a form body (JSON gets an HTML page with status 200); a repeated grant
        # only issues another token, so it may be retried like a read.
        resp = await self._upstream.request(
            "login", "POST", self._url, data=form, safe=True, auth=False
        )
        return self._token(resp.json())

    async def refresh(self, token: Token) -> Token:
        return await self.login()

    def _token(self, body: Any) -> Token:
        source = self._upstream.ctx.source
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise BackendFailure(
                f"{source}: UiPath identity answer has no access_token",
                sent=True, source=SourceInfo(source, 200, "malformed_token"),
            )
        lifetime = body.get("expires_in")
        seconds = (
            float(lifetime)
            if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0
            else _DEFAULT_LIFETIME
        )
        return Token(
            access=body["access_token"], expires_at=time.monotonic() + seconds, lifetime=seconds
        )
