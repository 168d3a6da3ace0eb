"""The template backend over HTTP: token login, metadata, list/get/create/update/delete.

The wire format a connector author would find in a real backend's docs:

* ``POST /auth/login`` ``{"username", "password"}`` → ``{"access_token", "expires_in"}``;
  every other call sends ``Authorization: Bearer <token>`` (401 once it expired).
* ``GET /api/meta`` → ``{entity: {field: type}}``.
* ``GET /api/{entity}?offset=&limit=&eq.<field>=<value>`` → ``{"items", "total"}``: records
  in id order, ``eq.`` conditions matched exactly (case-sensitive), at most 50 per call.
* ``GET|PATCH|DELETE /api/{entity}/{id}``, ``POST /api/{entity}``; ``PATCH`` takes
  ``If-Match: <version>``.
* Errors are ``{"error": code, "message": text}``; maintenance is 503 with Retry-After.

Built on ``connectors.emulation`` (request log, fault switchboard), which ships with recordgate
for emulators and shares no code with the gateway.
"""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from aiohttp import web

from connectors.emulation import EmulatorBase, build_emulator_app
from recordgate_template.emulator.store import SCHEMA, Store, ValidationError

__all__ = ["MAX_LIMIT", "TemplateEmulator", "create_app"]

MAX_LIMIT = 50


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def _error_body(status: int) -> bytes:
    return orjson.dumps({"error": f"http_{status}", "message": f"injected HTTP {status}"})


def _maintenance(request: web.Request) -> web.StreamResponse:
    resp = _error(503, "maintenance", "down for maintenance")
    resp.headers["Retry-After"] = "300"  # a maintenance window, longer than any request
    return resp


class _Tokens:
    def __init__(self) -> None:
        self.live: set[str] = set()

    def issue(self) -> str:
        token = secrets.token_hex(16)
        self.live.add(token)
        return token

    def expire_all(self) -> None:
        self.live.clear()


class TemplateEmulator(EmulatorBase[_Tokens]):
    """The backend, its users and its log; ``app`` is what a test server serves."""

    def __init__(self, users: dict[str, str] | None = None, seed: int = 7) -> None:
        super().__init__()
        self.users = users or {"admin": "admin"}
        self.tokens = _Tokens()
        self.store = Store(seed)
        self.app = build_emulator_app(
            self, TEMPLATE_EMULATOR, self.handle, client_max_size=1024**2,
            error_body=_error_body, maintenance_answer=_maintenance,
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if parts == ["auth", "login"] and request.method == "POST":
            return await self._login(request)
        if parts[:1] != ["api"]:
            return _error(404, "not_found", "no such path")
        header = request.headers.get("Authorization", "")
        if header.removeprefix("Bearer ") not in self.tokens.live:
            return _error(401, "unauthorized", "missing or expired token")
        if parts == ["api", "meta"]:
            return web.json_response(SCHEMA)
        if len(parts) not in (2, 3) or parts[1] not in SCHEMA:
            return _error(404, "not_found", "no such entity")
        entity = parts[1]
        if len(parts) == 2:
            if request.method == "GET":
                return self._list(request, entity)
            if request.method == "POST":
                return await self._write(entity, None, await request.json(), None)
            return _error(405, "method_not_allowed", request.method)
        return await self._one(request, entity, parts[2])

    async def _login(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.users.get(body.get("username")) != body.get("password"):
            return _error(401, "bad_credentials", "wrong username or password")
        return web.json_response({"access_token": self.tokens.issue(), "expires_in": 3600})

    def _list(self, request: web.Request, entity: str) -> web.Response:
        try:
            offset = int(request.query.get("offset", "0"))
            limit = min(int(request.query.get("limit", "20")), MAX_LIMIT)
        except ValueError:
            return _error(400, "bad_paging", "offset and limit are integers")
        wanted = {k[3:]: v for k, v in request.query.items() if k.startswith("eq.")}
        if set(wanted) - set(SCHEMA[entity]):
            unknown = ", ".join(sorted(set(wanted) - set(SCHEMA[entity])))
            return _error(400, "unknown_field", unknown)
        rows = sorted(self.store.all(entity), key=lambda r: r["id"])
        hits = [r for r in rows if all(r.get(f) == v for f, v in wanted.items())]
        return web.json_response({"items": hits[offset:offset + limit], "total": len(hits)})

    async def _one(self, request: web.Request, entity: str, rid: str) -> web.Response:
        if request.method == "GET":
            record = self.store.rows[entity].get(rid)
            return web.json_response(record) if record else self._missing(rid)
        if request.method == "DELETE":
            return web.json_response({"id": rid}) if self.store.delete(entity, rid) \
                else self._missing(rid)
        if request.method == "PATCH":
            match = request.headers.get("If-Match")
            if match is not None and not match.isdigit():
                return _error(400, "bad_version", "If-Match is a version number")
            return await self._write(entity, rid, await request.json(),
                                     None if match is None else int(match))
        return _error(405, "method_not_allowed", request.method)

    async def _write(self, entity: str, rid: str | None, data: Any,
                     version: int | None) -> web.Response:
        if not isinstance(data, dict):
            return _error(400, "bad_body", "a record is a JSON object")
        try:
            if rid is None:
                return web.json_response(self.store.create(entity, data), status=201)
            record = self.store.update(entity, rid, data, version)
        except ValidationError as exc:
            return web.json_response(
                {"error": "invalid", "message": str(exc), "field": exc.field}, status=422)
        except ValueError as exc:
            return _error(409, "stale_version", str(exc))
        return web.json_response(record) if record else self._missing(rid)

    @staticmethod
    def _missing(rid: str) -> web.Response:
        return _error(404, "not_found", f"no record {rid}")


TEMPLATE_EMULATOR = web.AppKey("template_emulator", TemplateEmulator)


def create_app(user: str = "admin", password: str = "admin") -> web.Application:
    """For ``gateway emulator template`` and ``gateway demo``."""
    app: web.Application = TemplateEmulator({user: password}).app
    return app
