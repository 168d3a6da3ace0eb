"""UiPath Identity's token endpoint (client credentials, refresh) and Bearer checks with scopes."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connectors.dataservice.emulator.errors import FORBIDDEN, UNAUTHENTICATED, DsError

__all__ = ["Grant", "OAuthError", "TokenServer", "needed_scope"]

# The current SDKs name the same scopes DataFabric.* (naming in transition): accept either.
_ALIASES = {"DataService.Data.Read": "DataFabric.Data.Read",
            "DataService.Data.Write": "DataFabric.Data.Write",
            "DataService.Schema.Read": "DataFabric.Schema.Read"}


class OAuthError(Exception):
    """An OAuth2 error answer: {"error": code} (+ error_description), status 400 or 401."""

    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.body: dict[str, str] = {"error": error}
        if description:
            self.body["error_description"] = description


@dataclass
class Grant:
    token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float

    @property
    def user(self) -> str:
        """The GUID written to CreatedBy/UpdatedBy for this client's writes."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"uipath-external-app:{self.client_id}"))


@dataclass
class _Refresh:
    client_id: str
    scopes: frozenset[str]


def needed_scope(kind: str) -> tuple[str, str]:
    """The scope an endpoint kind (read, write, schema) needs, in both spellings."""
    name = {"read": "DataService.Data.Read", "write": "DataService.Data.Write",
            "schema": "DataService.Schema.Read"}[kind]
    return name, _ALIASES[name]


class TokenServer:
    def __init__(self, *, clients: Mapping[str, str], scopes: tuple[str, ...], lifetime: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.clients = dict(clients)
        self.scopes = set(scopes) | {_ALIASES[s] for s in scopes if s in _ALIASES}
        self.lifetime = lifetime
        self._clock = clock
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, _Refresh] = {}

    # --- /identity_/connect/token -----------------------------------------------------------

    def grant(self, form: Mapping[str, str]) -> dict[str, object]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", description="grant_type is missing")
        if grant_type == "client_credentials":
            client_id = self._client(form, secret_required=True)
            requested = form.get("scope", "").split()
            unknown = [s for s in requested if s not in self.scopes and s != "offline_access"]
            if unknown:
                raise OAuthError("invalid_scope")
            # No scope asked: IdentityServer grants every scope the client is allowed.
            granted = frozenset(requested) if requested else frozenset(self.scopes)
            return self._issue(client_id, granted, refresh="offline_access" in requested)
        if grant_type == "refresh_token":
            client_id = self._client(form, secret_required=False)
            stored = self._refresh.pop(form.get("refresh_token", ""), None)
            if stored is None or stored.client_id != client_id:
                raise OAuthError("invalid_grant")
            return self._issue(client_id, stored.scopes, refresh=True)
        raise OAuthError("unsupported_grant_type")

    def _client(self, form: Mapping[str, str], secret_required: bool) -> str:
        client_id = form.get("client_id", "")
        if client_id not in self.clients:
            raise OAuthError("invalid_client")
        secret = form.get("client_secret")
        if (secret_required or secret is not None) and secret != self.clients[client_id]:
            raise OAuthError("invalid_client")
        return client_id

    def _issue(self, client_id: str, scopes: frozenset[str], refresh: bool) -> dict[str, object]:
        token = secrets.token_urlsafe(32)
        self._access[token] = Grant(token, client_id, scopes, self._clock() + self.lifetime)
        body: dict[str, object] = {"access_token": token, "expires_in": self.lifetime,
                                   "token_type": "Bearer", "scope": " ".join(sorted(scopes))}
        if refresh:  # only with offline_access, as IdentityServer does
            rtoken = secrets.token_urlsafe(32)
            self._refresh[rtoken] = _Refresh(client_id, scopes)
            body["refresh_token"] = rtoken
        return body

    # --- Bearer checks ------------------------------------------------------------------------

    def verify(self, authorization: str | None, kind: str) -> Grant:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise DsError(401, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
        grant = self._access.get(token.strip())
        if grant is None:
            raise DsError(401, UNAUTHENTICATED,
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if grant.expires_at <= self._clock():
            raise DsError(401, UNAUTHENTICATED, headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                                    'error_description="The token expired"'})
        if not grant.scopes & set(needed_scope(kind)):
            raise DsError(403, FORBIDDEN)
        return grant

    def expire_all(self) -> None:
        past = self._clock() - 1
        for grant in self._access.values():
            grant.expires_at = min(grant.expires_at, past)
