"""The Slingr runtime API emulator: aiohttp app, route table, auth; state tests can inspect."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web
from multidict import MultiDict, MultiMapping

from connectors.emulation.base import EmulatorBase, build_emulator_app
from connectors.emulation.commits import commit_wait
from connectors.slingr.emulator.actions import Actions
from connectors.slingr.emulator.applogs import AppLogs
from connectors.slingr.emulator.auth import Session, TokenServer
from connectors.slingr.emulator.errors import SlingrError, fault_body
from connectors.slingr.emulator.files import Download, uploaded_file
from connectors.slingr.emulator.history import Actor, AuditLog
from connectors.slingr.emulator.jobs import Jobs
from connectors.slingr.emulator.query import bad
from connectors.slingr.emulator.records import Records, entity_of
from connectors.slingr.emulator.sample import seed as seed_data
from connectors.slingr.emulator.store import FileData, RecordStore
from connectors.slingr.emulator.transfer import Transfer

__all__ = ["EMULATOR_KEY", "SlingrEmulator", "create_app"]

SYNC_DELETE_CAP = 1000  # above this many records a delete needs _async [SD-API]
_JOB_CONTROL = ("stop", "forceStop", "cancel", "resume")
_HISTORY = ("history", "auditLogs")  # the docs' older and newer names of one call [SD-API]


@dataclass
class Req:
    method: str
    segments: list[str]
    query: MultiMapping[str]
    raw: bytes
    content_type: str
    headers: Any
    ip: str
    session: Session | None = field(default=None)
    origin: str = ""         # scheme://host the caller used, for absolute links (exports)
    kind: str | None = None  # the app log sub-type this call writes when it succeeds

    def actor(self) -> Actor:
        """Who is calling, for history entries."""
        assert self.session is not None
        return Actor(self.session.email, self.ip)

    def json(self) -> Any:
        if not self.raw.strip():
            return {}
        try:
            return orjson.loads(self.raw)
        except orjson.JSONDecodeError as exc:
            raise bad("The body is not valid JSON") from exc

    @property
    def is_async(self) -> bool:
        return self.query.get("_async") == "true"


def _is_write(method: str, segments: list[str]) -> bool:
    """Record writes: creates, updates, deletes, actions and imports under /data."""
    return method in ("POST", "PUT", "DELETE") and segments[:1] == ["data"] \
        and segments[-1] not in ("aggregate", "export")


def _not_found(path: str) -> SlingrError:
    return SlingrError(404, "notFound", f"Resource [{path}] not found")


class SlingrEmulator(EmulatorBase[TokenServer]):
    """A Slingr app's runtime REST API in one process: seeded data, tokens, faults, a log."""

    def __init__(self, *, users: dict[str, str] | None = None, seed: int = 42,
                 companies: int = 250, contacts: int = 600,
                 token_idle_lifetime: float = 8 * 3600, app_name: str = "demo",
                 env: str = "dev", developers: Iterable[str] | None = None,
                 user_ids: Mapping[str, str] | None = None,
                 user_names: Mapping[str, str] | None = None) -> None:
        users = dict(users or {"admin@example.com": "admin"})
        self.env = env
        self.base = f"/{env}/runtime/api"
        super().__init__()
        self.store = RecordStore()
        # The first user owns the app (a developer) unless told otherwise.
        devs = set(developers) if developers is not None else set(list(users)[:1])
        self.tokens = TokenServer(users, devs, token_idle_lifetime, app_name,
                                  lambda: self.faults.in_maintenance, user_ids, user_names)
        self.audit = AuditLog(self.store)
        self.app_logs = AppLogs()
        self.records = Records(self.store, self.audit)
        self.jobs = Jobs(self.store, people=self.tokens.profile)
        self.actions = Actions(self.records, self.jobs)
        self.transfer = Transfer(self.records, self.jobs)
        # The caller's address as Slingr reports it ("ip" in logins, logs and history); None
        # means the socket's peer. Tests set it to replay the docs' "::ffff:10.240.0.x".
        self.remote_ip: str | None = None
        self.shared: dict[str, str] = {}
        seed_data(self.store, seed=seed, companies=companies, contacts=contacts)
        self.app = self._build_app()

    # --- inspection and knobs -------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], int]:
        """Epoch-ms clock for lastUpdate, ids and jobs; tests pin it to replay samples."""
        return self.store.clock

    @clock.setter
    def clock(self, value: Callable[[], int]) -> None:
        self.store.clock = value

    def server_time(self) -> float | None:
        """The `Date` header: the clock's latest reading (this request's write, else an earlier
        one), so it agrees with the stamps answers carry. It never reads the clock itself: the
        replays pin clocks that answer one value per read. The default clock is read afresh;
        a clock set by a test and not read since leaves aiohttp's real-time header."""
        if self.store.clock_is_default():
            return self.store.clock() / 1000
        ms = self.store.last_read
        return None if ms is None else ms / 1000

    @property
    def shuffle_ties(self) -> int | None:
        """A seed: records with equal `_sortField` values come in an order drawn from it
        rather than by id (the docs give no tie order); None (default): by id."""
        return self.store.shuffle_ties

    @shuffle_ties.setter
    def shuffle_ties(self, seed: int | None) -> None:
        self.store.shuffle_ties = seed

    def calls(self, method: str, path: str) -> int:
        """How many requests had this method and path (relative to the base or absolute)."""
        full = path if path.startswith(self.base) else self.base + path
        return super().calls(method, full)

    # --- aiohttp glue ---------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        return build_emulator_app(self, EMULATOR_KEY, self._handle,
                                  client_max_size=50 * 1024 * 1024, error_body=fault_body,
                                  maintenance_answer=self._maintenance_answer)

    def _maintenance_answer(self, request: web.Request) -> web.StreamResponse | None:
        if request.path == f"{self.base}/auth/login":
            return None  # developers may still log in; the token server decides
        return self._to_http(SlingrError(
            503, "applicationUnavailable",
            "Application is under maintenance, please try again later"))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        path = request.raw_path.split("?", 1)[0]
        if not path.startswith(self.base + "/"):
            return self._to_http(_not_found(path))
        segments = [unquote(p) for p in path[len(self.base):].split("/") if p]
        if self.commit_delay is not None and _is_write(request.method, segments):
            arrived = self.store.clock()
            if await commit_wait(self.commit_delay, request.method, request.path):
                with self.store.stamped(arrived):  # stamped on arrival, visible from now on
                    return self._serve(request, raw, path, segments)
        return self._serve(request, raw, path, segments)

    def _serve(self, request: web.Request, raw: bytes, path: str,
               segments: list[str]) -> web.Response:
        remote = self.remote_ip or request.remote or "127.0.0.1"
        ip = f"::ffff:{remote}" if ":" not in remote else remote
        req = Req(request.method, segments, MultiDict(request.query), raw,
                  request.content_type, request.headers, ip,
                  origin=f"{request.scheme}://{request.host}")
        try:
            result = self._route(req)
            self._app_log(req, request.raw_path, result)
            return self._to_http(result)
        except SlingrError as err:
            return self._to_http(err)
        except Exception:  # a bug must still look like Slingr's 500, with the cause printed
            traceback.print_exc()
            return self._to_http(SlingrError(500, "systemException", "Internal error"))

    @staticmethod
    def _to_http(result: Any) -> web.Response:
        if isinstance(result, SlingrError):
            return web.Response(status=result.status, body=orjson.dumps(result.body()),
                                content_type="application/json")
        if isinstance(result, Download):
            return result.response()
        return web.Response(status=200, body=orjson.dumps(result),
                            content_type="application/json")

    def _app_log(self, req: Req, raw_path: str, result: Any) -> None:
        """The app log line a successful login or REST record call leaves [SD-API logs]."""
        if req.kind == "LOGIN":
            self.app_logs.add("POST /login", user_email=result["userEmail"],
                              admin_email=result["adminUserEmail"], sub_type="LOGIN")
        elif req.kind is not None and req.session is not None:
            self.app_logs.add(f"{req.method} /api{raw_path[len(self.base):]}",
                              user_email=req.session.email, admin_email=req.session.admin,
                              ip=req.ip, sub_type=req.kind)

    def _auth(self, req: Req) -> Session:
        req.session = self.tokens.verify(req.headers.get("token"))
        return req.session

    # --- routing --------------------------------------------------------------------------------

    def _route(self, req: Req) -> Any:
        m, s = req.method, req.segments
        n = len(s)
        if s == ["auth", "login"] and m == "POST":
            req.kind = "LOGIN"
            return self.tokens.login(req.json(), req.ip)
        if n == 3 and s[:2] == ["files", "shared"] and m == "GET":
            return self._shared_file(s[2])  # a public link: no token [SD-API]
        if not s:
            raise _not_found("/")
        session = self._auth(req)
        if s[0] == "data" and n >= 2:
            return self._data(req, s[1], s[2:])
        if s[0] == "files":
            return self._files(req, session, s[1:])
        if s[:2] in (["status", "jobs"], ["status", "job"]):  # the docs' sample says "job"
            return self._jobs(req, s[2:])
        if s == ["status", "logs"] and m in ("GET", "POST"):
            if session.email not in self.tokens.developers:
                raise SlingrError(403, "forbidden", "Only developers can access app logs")
            if m == "GET":
                return self.app_logs.query(req.query)
            return self.app_logs.post(req.json(), session.email, session.admin, req.ip)
        raise _not_found("/" + "/".join(s))

    def _data(self, req: Req, entity: str, rest: list[str]) -> Any:
        m, q = req.method, req.query
        records = self.records
        entity_def = entity_of(entity)
        if not rest:
            if m == "GET":
                return records.find(entity, q)
            if m == "POST":
                req.kind = "REST_API_RECORD_CREATED"
                return records.create(entity, req.json(), actor=req.actor())
            if m == "DELETE":
                ids = [r["id"] for r in records.matching(entity, q)]
                return self._delete_many(req, entity, ids)
        elif len(rest) == 1:
            target = rest[0]
            if m == "GET" and target in _HISTORY:
                return self.audit.for_entity(entity_def, q)
            if m == "POST" and target == "import":
                filename, _, data = uploaded_file(req.raw, req.headers.get("Content-Type", ""))
                return self.transfer.import_csv(req, entity, filename or "import.csv", data)
            if m == "PUT" and target == "export":
                return self.transfer.export_csv(req, entity, self.base)
            if m == "GET":
                req.kind = "REST_API_RECORD_READ"
                return records.read(entity, target, q)
            if m == "PUT" and self.actions.known(entity, target):
                ids = [r["id"] for r in records.matching(entity, q)]
                req.kind = "REST_API_ACTION_EXECUTED"
                return self.actions.run(req, entity, ids, target, many=True)
            if m == "PUT" and target == "aggregate":
                return self.actions.aggregate(entity, req.json())
            if m == "PUT":
                req.kind = "REST_API_RECORD_UPDATED"
                saved = records.update(entity, target, req.json(), actor=req.actor())
                return records.read(entity, saved["id"], q)
            if m == "DELETE":
                ids = target.split(",")
                if len(ids) == 1 and not req.is_async:
                    req.kind = "REST_API_RECORD_DELETED"
                    return records.delete(entity, target, actor=req.actor())
                return self._delete_many(req, entity, ids)
        elif len(rest) == 2 and m == "GET" and rest[1] in _HISTORY:
            return self.audit.for_record(entity_def, rest[0], q)
        elif len(rest) == 2 and m == "PUT":
            ids = rest[0].split(",")
            req.kind = "REST_API_ACTION_EXECUTED"
            return self.actions.run(req, entity, ids, rest[1], many=len(ids) > 1)
        elif len(rest) == 3 and rest[1] == "files" and m == "GET":
            return self._record_file(entity, rest[0], rest[2])
        raise _not_found(f"/data/{entity}/" + "/".join(rest))

    def _delete_many(self, req: Req, entity: str, ids: list[str]) -> Any:
        req.kind = "REST_API_RECORD_DELETED"
        if not req.is_async and len(ids) > SYNC_DELETE_CAP:
            raise bad(f"Deleting more than {SYNC_DELETE_CAP} records needs _async=true")
        results: dict[str, Any] = {}
        for rid in ids:
            try:
                deleted = self.records.delete(entity, rid, actor=req.actor())
            except SlingrError as err:
                results[rid] = {"status": "error", "errorMessage": err.message}
            else:
                results[rid] = {"status": "ok",
                                "response": self.records.with_entity(entity, deleted)}
        if not req.is_async:
            return results
        assert req.session is not None
        errors = any(r["status"] == "error" for r in results.values())
        return self.jobs.run(req.session, "DELETE_RECORDS",
                             f"Delete records from entity {entity}", results,
                             records=len(ids), data={"entityName": entity}, has_errors=errors)

    # --- files ----------------------------------------------------------------------------------

    def _files(self, req: Req, session: Session, rest: list[str]) -> Any:
        m = req.method
        if not rest and m == "POST":
            filename, ctype, data = uploaded_file(req.raw, req.headers.get("Content-Type", ""))
            fid = self.store.new_id()
            self.store.files[fid] = FileData(fid, filename or "file", ctype, data,
                                             self.store.clock())
            return {"fileId": fid, "fileLink": f"/files/{fid}"}
        if len(rest) == 1 and m == "GET":
            owned = self.store.files.get(rest[0])
            if session.email not in self.tokens.developers and (
                    owned is None or owned.owner != session.email):
                raise SlingrError(403, "forbidden",
                                  "Only developer and system users can download files")
            return self._file(rest[0])
        if len(rest) == 2 and rest[1] == "share" and m == "PUT":
            self._file(rest[0])
            ttl = req.query.get("ttl", "3600000")
            if not ttl.isdigit():
                raise bad(f"Invalid ttl [{ttl}]")
            shared = self.store.new_id()
            self.shared[shared] = rest[0]
            return {"sharedFileId": shared, "sharedFileLink": f"/files/shared/{shared}"}
        raise _not_found("/files/" + "/".join(rest))

    def _file(self, file_id: str) -> Download:
        data = self.store.files.get(file_id)
        if data is None:
            raise SlingrError(404, "notFound", f"File [{file_id}] not found")
        return Download(data.name, data.data)

    def _shared_file(self, shared_id: str) -> Download:
        if shared_id not in self.shared:
            raise SlingrError(404, "notFound", f"Shared file [{shared_id}] not found")
        return self._file(self.shared[shared_id])

    def _record_file(self, entity: str, record_id: str, file_id: str) -> Download:
        record = self.records.get(entity, record_id)
        for fdef in entity_of(entity).fields:
            value = record.get(fdef.name)
            if fdef.type == "file" and isinstance(value, dict) and value.get("id") == file_id:
                return self._file(file_id)
        raise SlingrError(404, "notFound",
                          f"File [{file_id}] not found in record [{record_id}]")

    # --- jobs -----------------------------------------------------------------------------------

    def _jobs(self, req: Req, rest: list[str]) -> Any:
        m = req.method
        if not rest and m == "GET":
            return self.jobs.list(req.query)
        if len(rest) == 1 and m == "GET":
            return self.jobs.get(rest[0])
        if len(rest) == 2 and rest[1] == "logs" and m == "GET":
            return self.jobs.logs(rest[0])
        if len(rest) == 2 and rest[1] in _JOB_CONTROL and m == "PUT":
            return self.jobs.control(rest[0], rest[1])
        raise _not_found("/status/jobs/" + "/".join(rest))


EMULATOR_KEY = web.AppKey("slingr_emulator", SlingrEmulator)


def create_app(user: str | None = None, password: str | None = None,
               **kw: Any) -> web.Application:
    """The emulator's app for `gateway emulator slingr` and the demo.

    Default user admin@example.com / admin; given credentials replace it (so a refused login
    is refused for the default ones too). `user` is an email."""
    users = {user or "admin@example.com": password or "admin"}
    return SlingrEmulator(users=kw.pop("users", users), **kw).app

