"""Slingr's login: POST /auth/login, impersonation, `token` header, sliding idle expiry."""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.slingr.emulator.errors import SlingrError

__all__ = ["Session", "TokenServer", "user_id", "user_name"]

_ALPHABET = string.ascii_letters + string.digits


def user_id(email: str) -> str:
    """A stable 24-hex id per user."""
    return hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()[:24]


def user_name(email: str) -> str:
    """'user@test.com' → 'User Test', as in the seed's login samples."""
    local, _, domain = email.partition("@")
    return f"{local.title()} {domain.split('.')[0].title()}".strip()


@dataclass
class Session:
    token: str
    email: str             # the user the token acts as
    admin: str | None      # the impersonating user, if any
    last_used: float


def _random_token() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


class TokenServer:
    """Users, their tokens and the idle lifetime; `expire_all` is the test knob.

    `user_ids` / `user_names` give users the literal ids and full names the docs show (the
    hash and the name derived from the email otherwise); `new_token` makes tokens, and tests
    may pin it to replay the login sample's token."""

    def __init__(self, users: dict[str, str], developers: set[str], idle_lifetime: float,
                 app_name: str, in_maintenance: Callable[[], bool],
                 user_ids: Mapping[str, str] | None = None,
                 user_names: Mapping[str, str] | None = None) -> None:
        self.users = users
        self.developers = developers
        self.idle_lifetime = idle_lifetime
        self.app_name = app_name
        self.in_maintenance = in_maintenance
        self.user_ids = dict(user_ids or {})
        self.user_names = dict(user_names or {})
        self.new_token: Callable[[], str] = _random_token
        self.sessions: dict[str, Session] = {}

    def profile(self, email: str) -> tuple[str, str]:
        """(userId, full name) of a user."""
        return (self.user_ids.get(email) or user_id(email),
                self.user_names.get(email) or user_name(email))

    def login(self, body: Any, ip: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SlingrError(400, "badRequest", "Email and password are required")
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not email or not isinstance(password, str) \
                or not password:
            raise SlingrError(400, "badRequest", "Email and password are required")
        if self.users.get(email) != password:
            raise SlingrError(401, "unauthorized", "Invalid credentials")
        developer = email in self.developers
        if self.in_maintenance() and not developer:
            raise SlingrError(503, "applicationUnavailable",
                              "Application is under maintenance, please try again later")
        target, admin = email, None
        impersonated = body.get("emailImpersonatedUser")
        if impersonated is not None:
            if not isinstance(impersonated, str) or impersonated not in self.users:
                raise SlingrError(404, "notFound", f"User [{impersonated}] does not exist")
            if not developer:
                raise SlingrError(403, "forbidden", "Not allowed to impersonate users")
            target, admin = impersonated, email
        token = self.new_token()
        self.sessions[token] = Session(token, target, admin, time.monotonic())
        uid, name = self.profile(target)
        return {"app": self.app_name, "adminUserEmail": admin, "ip": ip, "userEmail": target,
                "userName": name, "userId": uid, "token": token}

    def verify(self, token: str | None) -> Session:
        """The session for a `token` header; each use restarts the idle clock."""
        session = self.sessions.get(token or "")
        now = time.monotonic()
        if session is not None and now - session.last_used > self.idle_lifetime:
            del self.sessions[session.token]
            session = None
        if session is None:
            raise SlingrError(401, "unauthorized", "Not logged in or the token is invalid")
        session.last_used = now
        return session

    def expire_all(self) -> None:
        self.sessions.clear()
