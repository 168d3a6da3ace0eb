"""The SugarCRM v10 emulator: aiohttp app, route table, auth, /bulk; state tests can inspect."""

from __future__ import annotations

import calendar
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from connectors.emulation.base import EmulatorBase, build_emulator_app
from connectors.emulation.commits import commit_wait
from connectors.sugarcrm.emulator.auth import AccessGrant, TokenServer
from connectors.sugarcrm.emulator.errors import (
    MAINTENANCE_MESSAGE,
    SugarError,
    fault_body,
    status_text,
)
from connectors.sugarcrm.emulator.files import Download, Files
from connectors.sugarcrm.emulator.records import Records, UserState, php_empty
from connectors.sugarcrm.emulator.sample import seed as seed_data
from connectors.sugarcrm.emulator.schema import MODULES, metadata
from connectors.sugarcrm.emulator.store import FileData, RecordStore, iso
from connectors.sugarcrm.emulator.values import php_items, php_str
from connectors.sugarcrm.emulator.wire import (
    decode_json,
    parse_multipart,
    php_query,
    php_query_string,
)

__all__ = ["EMULATOR_KEY", "SugarEmulator", "create_app"]

_VERSION = re.compile(r"v10|v11|v11_([1-9]|1\d|2[0-4])")
_ANY_VERSION = re.compile(r"v\d+(_\d+)?")
# Routes whose query-string `filter` is JSON-decoded (FilterApi's jsonParams).
_JSON_FILTER = {("GET", "list"), ("GET", "filter"), ("GET", "count")}


@dataclass
class Req:
    """One API call, from HTTP or from a /bulk item."""

    method: str
    segments: list[str]
    query: dict[str, Any]
    raw: bytes = b""
    content_type: str = ""
    body: Any = None              # already decoded (bulk items); else decoded from raw
    form: dict[str, Any] | None = None
    files: dict[str, FileData] = field(default_factory=dict)
    headers: CIMultiDict[str] | CIMultiDictProxy[str] = field(default_factory=CIMultiDict)
    base_url: str = ""
    grant: AccessGrant | None = None


@dataclass
class Resp:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _no_method(segments: list[str]) -> SugarError:
    return SugarError(404, "no_method",
                      "Could not find any route that accepted a path like: " + "/".join(segments))


class SugarEmulator(EmulatorBase[TokenServer]):
    """A SugarCRM v10 server in one process: seeded data, tokens, faults and a request log."""

    def __init__(self, *, users: dict[str, str] | None = None, seed: int = 42,
                 accounts: int = 250, contacts: int = 600, access_token_lifetime: int = 3600,
                 refresh_token_lifetime: int = 1209600, max_list_limit: int | None = None,
                 platforms: tuple[str, ...] = ("base", "mobile", "portal", "opi", "lpi",
                                               "recordgate"),
                 clients: dict[str, str] | None = None) -> None:
        super().__init__()
        self.store = RecordStore()
        self.tokens = TokenServer(
            users=users or {"admin": "admin"}, clients=clients or {"sugar": ""},
            platforms=platforms, access_lifetime=access_token_lifetime,
            refresh_lifetime=refresh_token_lifetime)
        self.tokens.in_maintenance = lambda: self.faults.in_maintenance
        self.maintenance_url = "https://sugar.example.com/maintenance"
        self._users: dict[str, UserState] = {}
        self.records = Records(self.store, self._user_state, max_list_limit)
        self.files = Files(self.records)
        seed_data(self.store, seed=seed, accounts=accounts, contacts=contacts,
                  user_ids=[TokenServer.user_id(u) for u in sorted(self.tokens.users,
                                                                   key=lambda u: u != "admin")])
        self.app = self._build_app()

    # --- inspection and knobs -------------------------------------------------------------------

    @property
    def max_list_limit(self) -> int | None:
        return self.records.max_list_limit

    @max_list_limit.setter
    def max_list_limit(self, value: int | None) -> None:
        self.records.max_list_limit = value

    @property
    def clock(self) -> Callable[[], datetime]:
        """The server clock (naive UTC); set it to pin date_modified, whattimeisit and `Date`."""
        return self.store.clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self.store.clock = value

    def server_time(self) -> float:
        return float(calendar.timegm(self.store.now().timetuple()))

    def prune_deleted(self, module: str | None = None) -> list[str]:
        """Run the "Prune Database" job: soft-deleted rows are gone for good."""
        return self.store.prune_deleted(module)

    def hard_delete(self, module: str, ids: list[str]) -> list[str]:
        """A Data Archiver hard delete: rows gone without passing through deleted = 1."""
        return self.store.hard_delete(module, ids)

    def _user_state(self, user_id: str) -> UserState:
        return self._users.setdefault(user_id, UserState())

    # --- aiohttp glue ---------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        return build_emulator_app(self, EMULATOR_KEY, self._handle,
                                  client_max_size=20 * 1024 * 1024, error_body=fault_body,
                                  maintenance_answer=self._maintenance_answer)

    def _maintenance_answer(self, request: web.Request) -> web.StreamResponse | None:
        if request.path.rstrip("/").endswith("/oauth2/token"):
            return None  # the token endpoint still lets admins in
        return self._to_http(self._error(SugarError(
            503, "maintenance", MAINTENANCE_MESSAGE, url=self.maintenance_url)))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._to_http(self._error(SugarError(
                413, "request_too_large", "The request is too large")))
        parts = [unquote(p) for p in request.raw_path.split("?", 1)[0].split("/") if p]
        if len(parts) < 2 or parts[0] != "rest":
            return self._to_http(self._error(_no_method(parts)))
        version, segments = parts[1], parts[2:]
        if not _VERSION.fullmatch(version):
            if _ANY_VERSION.fullmatch(version):
                return self._to_http(self._error(SugarError(
                    301, "incorrect_version", f"Unsupported API version: {version}")))
            return self._to_http(self._error(_no_method(parts[1:])))
        if self.commit_delay is not None and self._is_write(request.method, segments):
            arrived = self.store.now()
            if await commit_wait(self.commit_delay, request.method, request.path):
                with self.store.stamped(arrived):  # stamped on arrival, visible from now on
                    return self._serve(request, raw, segments)
        return self._serve(request, raw, segments)

    @staticmethod
    def _is_write(method: str, segments: list[str]) -> bool:
        """Calls that save or delete rows: creates, updates, deletes, file changes and /bulk."""
        if method not in ("POST", "PUT", "DELETE") or not segments:
            return False
        if segments == ["bulk"]:
            return True
        return segments[0] in MODULES and (len(segments) < 2 or segments[1] not in (
            "filter", "count"))

    def _serve(self, request: web.Request, raw: bytes, segments: list[str]) -> web.Response:
        req = Req(method=request.method, segments=segments,
                  query=php_query(request.query.items()), raw=raw,
                  content_type=request.content_type, headers=request.headers,
                  base_url=f"{request.scheme}://{request.host}")
        if request.content_type == "application/x-www-form-urlencoded":
            req.form = php_query_string(raw.decode("utf-8", "replace"))
        elif request.content_type.startswith("multipart/form-data"):
            req.form, req.files = parse_multipart(raw, request.headers["Content-Type"])
        return self._to_http(self.dispatch(req))

    def _to_http(self, resp: Resp) -> web.Response:
        if isinstance(resp.body, Download):
            return web.Response(status=resp.status, body=resp.body.data,
                                headers={**resp.headers, **resp.body.headers})
        return web.Response(status=resp.status, body=orjson.dumps(resp.body),
                            content_type="application/json", headers=resp.headers)

    @staticmethod
    def _error(err: SugarError) -> Resp:
        return Resp(err.status, err.body(), {"Cache-Control": "no-store"})

    # --- routing --------------------------------------------------------------------------------

    def dispatch(self, req: Req) -> Resp:
        """Route one call; every failure becomes Sugar's error body, never a stack trace."""
        try:
            return Resp(200, self._route(req))
        except SugarError as err:
            return self._error(err)
        except Exception:  # a bug here must still look like Sugar's 500, with the cause logged
            traceback.print_exc()
            return self._error(SugarError(500, "fatal_error", "An unexpected error occurred"))

    def _args(self, req: Req, route: str, raw_body: bool = False) -> dict[str, Any]:
        """RestService::getRequestArgs: body fields < query parameters (< path variables)."""
        body: Any = req.body
        if req.form is not None:
            body = req.form
        elif body is None and req.raw and not raw_body and req.method in ("POST", "PUT"):
            body = decode_json(req.raw)
        args: dict[str, Any] = {}
        if isinstance(body, dict):
            args.update({php_str(k): v for k, v in body.items()})
        args.update(req.query)
        raw_filter = req.query.get("filter")
        if (req.method, route) in _JSON_FILTER and isinstance(raw_filter, str) \
                and raw_filter.lstrip()[:1] in ("[", "{"):
            args["filter"] = decode_json(raw_filter)
        return args

    def _auth(self, req: Req) -> AccessGrant:
        if req.grant is not None:  # /bulk items run as the calling user
            return req.grant
        token = req.headers.get("OAuth-Token")
        if not token and req.method == "POST" and req.form is not None:
            token = php_str(req.form.get("oauth_token") or req.form.get("OAuth-Token")) or None
        req.grant = self.tokens.verify(token)
        return req.grant

    def _route(self, req: Req) -> Any:
        m, s = req.method, req.segments
        n = len(s)
        if s == ["oauth2", "token"] and m == "POST":
            return self.tokens.grant(self._args(req, "token"))
        if s == ["ping", "whattimeisit"] and m == "GET":
            self._auth(req)
            return iso(self.store.now())  # PingApi: TimeDate::asIso, the user's (UTC) offset
        if n == 1 and s[0] in ("ping", "me", "metadata") and m == "GET":
            grant = self._auth(req)
            if s[0] == "ping":
                return "pong"
            if s[0] == "me":
                return {"current_user": self._me(grant)}
            args = self._args(req, "metadata")
            wanted = [x for x in php_str(args.get("module_filter")).split(",") if x] or None
            return metadata(wanted)
        if s == ["oauth2", "logout"] and m == "POST":
            grant = self._auth(req)
            self.tokens.logout(grant, self._args(req, "logout").get("refresh_token"))
            return {"success": True}
        if s == ["bulk"] and m == "POST":
            self._auth(req)
            return self._bulk(req, self._args(req, "bulk"))
        if n == 0 or s[0] not in MODULES:
            raise _no_method(s)
        module = s[0]
        user = self._user_id
        if n == 1 and m in ("GET", "POST"):
            grant = self._auth(req)
            if m == "GET":
                return self.records.filter_list(module, self._args(req, "list"), user(grant))
            return self.records.create(module, self._args(req, "create"), user(grant))
        if n in (2, 3) and s[1] in ("filter", "count"):
            kind = "/".join(s[1:])
            if (m, kind) in (("GET", "filter"), ("POST", "filter")):
                grant = self._auth(req)
                return self.records.filter_list(module, self._args(req, "filter"), user(grant))
            if (m, kind) in (("GET", "count"), ("GET", "filter/count"), ("POST", "filter/count")):
                grant = self._auth(req)
                route = "count" if kind == "count" else "filter_count"
                return self.records.count(module, self._args(req, route), user(grant))
            raise _no_method(s)
        if n == 2 and m in ("GET", "PUT", "DELETE"):
            grant = self._auth(req)
            if m == "GET":
                return self.records.read(module, s[1], self._args(req, "read"), user(grant))
            if m == "PUT":
                return self.records.update(module, s[1], self._args(req, "update"), user(grant),
                                           req.headers.get("X-Timestamp"))
            return self.records.delete(module, s[1])
        if n == 3 and s[2] == "favorite" and m in ("PUT", "DELETE"):
            grant = self._auth(req)
            return self.records.favorite(module, s[1], user(grant), on=m == "PUT")
        if n == 3 and s[2] == "file" and m == "GET":
            self._auth(req)
            return self.files.listing(module, s[1], req.base_url)
        if n == 4 and s[2] == "file" and m in ("GET", "POST", "PUT", "DELETE"):
            grant = self._auth(req)
            record_id, fname = s[1], s[3]
            if m == "GET":
                return self.files.download(module, record_id, fname, self._args(req, "file"))
            if m == "POST":
                self._args(req, "file_post")
                return self.files.upload(module, record_id, fname, req.files, req.base_url,
                                         user(grant))
            if m == "PUT":
                args = self._args(req, "file_put", raw_body=True)
                return self.files.put_raw(module, record_id, fname, req.raw, args, req.headers,
                                          req.base_url, user(grant))
            return self.files.remove(module, record_id, fname, req.base_url, user(grant))
        raise _no_method(s)

    @staticmethod
    def _user_id(grant: AccessGrant) -> str:
        return TokenServer.user_id(grant.user)

    def _me(self, grant: AccessGrant) -> dict[str, Any]:
        return {"id": TokenServer.user_id(grant.user), "user_name": grant.user,
                "full_name": grant.user.title(),
                "type": "admin" if grant.user == "admin" else "user",
                "is_manager": False,
                "preferences": {"timezone": "UTC", "datepref": "Y-m-d", "timepref": "H:i"}}

    # --- /bulk ----------------------------------------------------------------------------------

    def _bulk(self, req: Req, args: dict[str, Any]) -> Any:
        requests = args.get("requests")
        if php_empty(requests) or not isinstance(requests, list | dict):
            raise SugarError(422, "missing_parameter", "Missing parameter: requests")
        items = php_items(requests)
        # Every item is checked for a URL before anything runs.
        if any(not isinstance(item, dict) or php_empty(item.get("url")) for _, item in items):
            raise SugarError(422, "missing_parameter", "Invalid request - URL is missing")
        results: dict[Any, Any] = {}
        for name, item in items:
            results[name] = self._bulk_item(req, item)
        if isinstance(requests, list):
            return list(results.values())
        return results

    def _bulk_item(self, outer: Req, item: dict[str, Any]) -> dict[str, Any]:
        path, _, query = php_str(item["url"]).partition("?")
        parts = [unquote(p) for p in path.split("/") if p]
        method = php_str(item.get("method") or "GET").upper()
        headers: CIMultiDict[str] = CIMultiDict()
        if isinstance(item.get("headers"), dict):
            headers.update({php_str(k): php_str(v) for k, v in item["headers"].items()})
        sub = Req(method=method, segments=parts[1:], query=php_query_string(query),
                  headers=headers, base_url=outer.base_url, grant=outer.grant)
        data = item.get("data")
        if not parts or not _VERSION.fullmatch(parts[0]):
            resp = self._error(_no_method(parts))
        else:
            try:
                sub.body = decode_json(data) if isinstance(data, str) and data else data
            except SugarError as err:
                resp = self._error(err)
            else:
                resp = self.dispatch(sub)
        contents: Any = resp.body
        headers_out: Any = dict(resp.headers) or []
        if isinstance(contents, Download):
            headers_out = contents.headers
            contents = contents.data.decode("utf-8", "replace")
        return {"contents": contents, "headers": headers_out, "status": resp.status,
                "status_text": status_text(resp.status)}


EMULATOR_KEY = web.AppKey("sugar_emulator", SugarEmulator)


def create_app(user: str | None = None, password: str | None = None,
               **kw: Any) -> web.Application:
    """The emulator's app for `gateway emulator sugarcrm` and the demo (default admin/admin).

    Given credentials replace the default user: anyone testing a refused login expects the
    default ones to be refused too."""
    users = {user or "admin": password or "admin"}
    return SugarEmulator(users=kw.pop("users", users), **kw).app
