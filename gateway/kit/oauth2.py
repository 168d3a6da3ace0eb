"""OAuth2 token sources (password grant with rotating refresh, client credentials) and the one
token decoder they share; used through ``gateway.upstream.tokens.TokenCache``.

The decoder is strict about the answer's shape: ``access_token`` must be a non-empty string and
``expires_in`` a positive number that is not a boolean (JSON ``true`` is no lifetime); an
absent or unusable lifetime means the issuer's documented default.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token

__all__ = ["DEFAULT_LIFETIME", "ClientCredentials", "PasswordGrant", "decode_token"]

DEFAULT_LIFETIME = 3600.0  # the usual one hour, when the answer gives no usable expires_in


def decode_token(
    body: Any, *, source: str, issuer: str, default_lifetime: float = DEFAULT_LIFETIME
) -> Token:
    """A token endpoint's JSON answer as a Token; BackendFailure when it carries none."""
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access, str) or not access:
        raise BackendFailure("malformed_token", {"source": source, "issuer": issuer},
                             sent=True, source=SourceInfo(source, 200, "malformed_token"))
    lifetime = body.get("expires_in")
    seconds = (float(lifetime)
               if isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
               and lifetime > 0 else default_lifetime)
    refresh = body.get("refresh_token")
    return Token(access=access, expires_at=time.monotonic() + seconds, lifetime=seconds,
                 refresh=refresh if isinstance(refresh, str) and refresh else None)


class _Grant:
    def __init__(self, upstream: Upstream, url: str, issuer: str) -> None:
        self._upstream = upstream
        self.url = url
        self.issuer = issuer

    def _decode(self, body: Any) -> Token:
        return decode_token(body, source=self._upstream.ctx.source, issuer=self.issuer)


class PasswordGrant(_Grant):
    """``grant_type=password`` for one user, renewed by ``grant_type=refresh_token``.

    The issuer rotates refresh tokens (SugarCRM does): a refresh is never repeated, since a
    lost answer has consumed ours; the TokenCache then logs in afresh.
    """

    def __init__(self, upstream: Upstream, url: str, *, username: str, password: str,
                 client: Mapping[str, str], issuer: str) -> None:
        super().__init__(upstream, url, issuer)
        self._user = {"username": username, "password": password}
        self._client = dict(client)  # client_id, client_secret and whatever else it wants

    async def login(self) -> Token:
        body = {"grant_type": "password", **self._user, **self._client}
        # A repeated login only starts another session, so it may be retried like a read.
        resp = await self._upstream.request(
            "login", "POST", self.url, json=body, safe=True, auth=False)
        return self._decode(resp.json())

    async def refresh(self, token: Token) -> Token:
        if token.refresh is None:
            return await self.login()
        body = {"grant_type": "refresh_token", "refresh_token": token.refresh, **self._client}
        resp = await self._upstream.request(
            "refresh", "POST", self.url, json=body, safe=False, auth=False)
        return self._decode(resp.json())


class ClientCredentials(_Grant):
    """``grant_type=client_credentials`` as a form body; no refresh token, so renewing is
    asking again (a repeated grant only issues another token: retried like a read)."""

    def __init__(self, upstream: Upstream, url: str, *, form: Mapping[str, str],
                 issuer: str) -> None:
        super().__init__(upstream, url, issuer)
        self._form = {"grant_type": "client_credentials", **form}

    async def login(self) -> Token:
        resp = await self._upstream.request(
            "login", "POST", self.url, data=self._form, safe=True, auth=False)
        return self._decode(resp.json())

    async def refresh(self, token: Token) -> Token:
        return await self.login()
