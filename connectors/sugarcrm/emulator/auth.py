"""Sugar's OAuth2 server: password and refresh grants, rotation, one session per platform."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.sugarcrm.emulator.errors import MAINTENANCE_MESSAGE, SugarError

__all__ = ["AccessGrant", "TokenServer"]

# SugarOAuth2StorageBase::$numSessions: how many refresh tokens a user keeps per platform.
SESSIONS_PER_PLATFORM = {"mobile": 2}
# Grant types OAuth2.php knows but the sugar client is not allowed to use.
KNOWN_GRANTS = {"authorization_code", "client_credentials",
                "urn:ietf:params:oauth:grant-type:jwt-bearer"}


@dataclass
class AccessGrant:
    token: str
    user: str
    platform: str
    refresh: str | None
    expires_at: float
    evicted_at: float | None = None


@dataclass
class _Refresh:
    token: str
    user: str
    platform: str
    client_id: str
    expires_at: float
    issued: float


def _bad(status: int, error: str, message: str = "") -> SugarError:
    return SugarError(status, error, message)


class TokenServer:
    """Issues and checks tokens; every limit and lifetime is an attribute tests may change."""

    def __init__(self, *, users: Mapping[str, str], clients: Mapping[str, str],
                 platforms: tuple[str, ...], access_lifetime: int, refresh_lifetime: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.users = dict(users)
        self.clients = dict(clients)
        self.platforms = set(platforms)
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        # Seconds after which an evicted session's access token is refused (Sugar checks every
        # 120 s); None keeps it valid until it expires.
        self.eviction_grace: float | None = None
        self.in_maintenance: Callable[[], bool] = lambda: False
        self._clock = clock
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, _Refresh] = {}
        self.download_tokens: dict[str, str] = {}

    @staticmethod
    def user_id(user: str) -> str:
        return "1" if user == "admin" else str(uuid.uuid5(uuid.NAMESPACE_URL, f"sugar-user:{user}"))

    # --- the token endpoint -----------------------------------------------------------------------

    def grant(self, args: Mapping[str, Any]) -> dict[str, Any]:
        platform = str(args.get("platform") or "base")
        if platform not in self.platforms:
            raise _bad(422, "invalid_parameter", "Invalid platform specified.")
        grant_type = args.get("grant_type")
        if grant_type in KNOWN_GRANTS:
            raise _bad(400, "unauthorized_client")
        if grant_type not in ("password", "refresh_token"):
            raise _bad(400, "invalid_request", "Invalid grant_type parameter or parameter missing")
        client_id = args.get("client_id")
        secret = args.get("client_secret") or ""
        if not isinstance(client_id, str) or client_id not in self.clients \
                or self.clients[client_id] != secret:
            raise _bad(400, "invalid_client", "The client credentials are invalid")
        if grant_type == "password":
            username, password = args.get("username"), args.get("password")
            if not username or password is None or password == "":
                raise _bad(400, "invalid_request",
                           'Missing parameters. "username" and "password" required')
            if self.users.get(str(username)) != str(password):
                raise _bad(401, "need_login", "You must specify a valid username and password.")
            if self.in_maintenance() and username != "admin":
                raise _bad(401, "need_login", MAINTENANCE_MESSAGE)
            return self._issue(str(username), platform, client_id)
        token = args.get("refresh_token")
        if not token:
            raise _bad(400, "invalid_request", 'No "refresh_token" parameter found')
        stored = self._refresh.get(str(token))
        if stored is None or stored.client_id != client_id:
            raise _bad(400, "invalid_grant", "Invalid refresh token")
        if stored.expires_at < self._clock():
            del self._refresh[stored.token]
            raise _bad(400, "invalid_grant", "Refresh token has expired")
        del self._refresh[stored.token]  # rotation: the used token dies
        return self._issue(stored.user, stored.platform, client_id)

    def _issue(self, user: str, platform: str, client_id: str) -> dict[str, Any]:
        now = self._clock()
        access, refresh, download = (str(uuid.uuid4()) for _ in range(3))
        self._evict(user, platform, keep=SESSIONS_PER_PLATFORM.get(platform, 1) - 1, now=now)
        self._refresh[refresh] = _Refresh(refresh, user, platform, client_id,
                                          now + self.refresh_lifetime, now)
        self._access[access] = AccessGrant(access, user, platform, refresh,
                                           now + self.access_lifetime)
        self.download_tokens[download] = user
        return {
            "access_token": access,
            "expires_in": self.access_lifetime,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh,
            "refresh_expires_in": self.refresh_lifetime,
            "download_token": download,
        }

    def _evict(self, user: str, platform: str, keep: int, now: float) -> None:
        mine = sorted((r for r in self._refresh.values()
                       if r.user == user and r.platform == platform), key=lambda r: r.issued)
        doomed = mine[: max(0, len(mine) - keep)]
        for old in doomed:
            del self._refresh[old.token]
        gone = {old.token for old in doomed}
        for grant in self._access.values():
            if grant.refresh in gone:
                grant.evicted_at = now

    # --- using a token ----------------------------------------------------------------------

    def verify(self, token: str | None) -> AccessGrant:
        if not token:
            raise _bad(401, "need_login", "No valid authentication for user.")
        grant = self._access.get(token)
        now = self._clock()
        if grant is None or (grant.evicted_at is not None and self.eviction_grace is not None
                             and now - grant.evicted_at >= self.eviction_grace):
            raise _bad(401, "invalid_grant", "The access token provided is invalid.")
        if grant.expires_at <= now:
            raise _bad(401, "invalid_grant", "The access token provided has expired.")
        return grant

    def logout(self, grant: AccessGrant, refresh_token: Any) -> None:
        self._access.pop(grant.token, None)
        for token in (grant.refresh, refresh_token):
            if isinstance(token, str):
                self._refresh.pop(token, None)

    def expire_all(self) -> None:
        """Every access token issued so far is now past its lifetime."""
        past = self._clock() - 1
        for grant in self._access.values():
            grant.expires_at = min(grant.expires_at, past)

    @property
    def refresh_tokens(self) -> set[str]:
        return set(self._refresh)
