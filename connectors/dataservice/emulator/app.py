"""The UiPath Data Service emulator: aiohttp app, identity token endpoint, both URL surfaces."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import orjson
from aiohttp import web

from connectors.dataservice.emulator.auth import Grant, OAuthError, TokenServer
from connectors.dataservice.emulator.errors import DsError, fault_body
from connectors.dataservice.emulator.files import Files
from connectors.dataservice.emulator.records import Records
from connectors.dataservice.emulator.sample import seed as seed_data
from connectors.dataservice.emulator.schema import (
    CHOICE_SETS,
    ENTITIES,
    EntityDef,
    choice_set_metadata,
    entity_metadata,
    find_entity,
)
from connectors.dataservice.emulator.store import FileData, RecordStore
from connectors.dataservice.emulator.v3 import V3Surface
from connectors.dataservice.emulator.wire import json_body, multipart_file
from connectors.emulation.base import EmulatorBase, build_emulator_app
from connectors.emulation.commits import commit_wait

__all__ = ["EMULATOR_KEY", "DataServiceEmulator", "create_app"]

DEFAULT_SCOPES = ("DataService.Data.Read", "DataService.Data.Write", "DataService.Schema.Read")
_SERVICES = ("datafabric_", "dataservice_")
_TOKEN_PATHS = ("/identity_/connect/token", "/identity/connect/token")
# Record operations: (method, path segments after the operation name) -> scope kind.
_OPS = {("read", "GET", 0): "read", ("read", "GET", 1): "read", ("query", "POST", 0): "read",
        ("insert", "POST", 0): "write", ("update", "POST", 1): "write",
        ("delete", "DELETE", 1): "write", ("insert-batch", "POST", 0): "write",
        ("update-batch", "POST", 0): "write", ("delete-batch", "POST", 0): "write",
        ("bulk-upload", "POST", 0): "write", ("query_expansion", "POST", 0): "read"}


class _NoRoute(Exception):
    """ASP.NET's answer when no endpoint matches: 404 (or 405 for a known path), empty body."""

    def __init__(self, status: int = 404) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    file: FileData | None = None


class DataServiceEmulator(EmulatorBase[TokenServer]):
    """A Data Service tenant in one process: seeded entities, tokens, faults and a request log."""

    def __init__(self, *, clients: dict[str, str] | None = None, seed: int = 42,
                 olympics: int = 120, athletes: int = 300, token_lifetime: int = 3600,
                 max_limit: int = 1000, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> None:
        super().__init__()
        self.store = RecordStore()
        self.tokens = TokenServer(clients=clients or {"recordgate": "recordgate-secret"},
                                  scopes=scopes, lifetime=token_lifetime)
        self.records = Records(self.store, max_limit)
        self.files = Files(self.records)
        self.v3 = V3Surface(self.records, self._auth, self._metadata)  # …/api/v3/entities
        seed_data(self.store, seed=seed, olympics=olympics, athletes=athletes)
        self.app = self._build_app()

    # --- inspection and knobs ---------------------------------------------------------------

    @property
    def max_limit(self) -> int:
        return self.records.max_limit

    @max_limit.setter
    def max_limit(self, value: int) -> None:
        self.records.max_limit = value

    @property
    def batch_failure_status(self) -> int:
        """200 (default) or 400: the status of a batch answer that lists failures."""
        return self.records.batch_failure_status

    @batch_failure_status.setter
    def batch_failure_status(self, value: int) -> None:
        self.records.batch_failure_status = value

    @property
    def clock(self) -> Callable[[], datetime]:
        """The service clock (aware UTC): UpdateTime/CreateTime stamps and the `Date` header."""
        return self.store.clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self.store.clock = value

    def server_time(self) -> float:
        return self.store.now().timestamp()

    @staticmethod
    def entity_id(name: str) -> str:
        """The GUID key of an entity, for surface B paths (…/EntityService/entity/<id>/…)."""
        return ENTITIES[name].id

    # --- aiohttp glue -------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        return build_emulator_app(self, EMULATOR_KEY, self._handle,
                                  client_max_size=200 * 1024 * 1024, error_body=fault_body,
                                  maintenance_answer=self._maintenance_answer)

    def _maintenance_answer(self, request: web.Request) -> web.StreamResponse | None:
        if request.path in _TOKEN_PATHS:
            return None  # Identity is its own service; it stays up
        resp = web.Response(status=503, body=fault_body(503), content_type="application/json")
        resp.headers["Retry-After"] = "30"
        return resp

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if request.path in _TOKEN_PATHS:
            return self._token(request, raw)
        parts = [unquote(p) for p in request.raw_path.split("?", 1)[0].split("/") if p]
        if self.commit_delay is not None and request.method in ("POST", "PUT", "DELETE") \
                and parts and parts[-1] not in ("query", "query_expansion"):
            arrived = self.store.now()
            if await commit_wait(self.commit_delay, request.method, request.path):
                with self.store.stamped(arrived):  # a batch shows all its rows together
                    return self._answer(request, parts, raw)
        return self._answer(request, parts, raw)

    def _answer(self, request: web.Request, parts: list[str], raw: bytes) -> web.Response:
        try:
            answer = self._dispatch(request, parts, raw)
        except _NoRoute as miss:
            return web.Response(status=miss.status)
        except DsError as err:
            answer = Answer(err.status, err.body(), err.headers)
        except Exception:  # a bug must still look like the service's 500, with the cause logged
            traceback.print_exc()
            answer = Answer(500, DsError(500, "An unexpected error occurred.").body())
        if answer.file is not None:
            blob = answer.file
            return web.Response(status=200, body=blob.data, headers={
                "Content-Type": blob.content_type,
                "Content-Disposition": f"attachment; filename=\"{blob.name}\"; "
                                       f"filename*=UTF-8''{quote(blob.name)}"})
        if answer.body is None:
            return web.Response(status=answer.status, headers=answer.headers)
        return web.Response(status=answer.status, body=orjson.dumps(answer.body),
                            content_type="application/json", headers=answer.headers)

    def _token(self, request: web.Request, raw: bytes) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405)
        if request.content_type != "application/x-www-form-urlencoded":
            # Identity answers a non-form token request with its HTML sign-in page, status 200.
            return web.Response(status=200, content_type="text/html",
                                text="<!DOCTYPE html><html><head><title>UiPath</title></head>"
                                     "<body>Sign in</body></html>")
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            body = self.tokens.grant(form)
        except OAuthError as err:
            return web.Response(status=err.status, body=orjson.dumps(err.body),
                                content_type="application/json",
                                headers={"Cache-Control": "no-store"})
        return web.Response(body=orjson.dumps(body), content_type="application/json",
                            headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- routing --------------------------------------------------------------------------------

    def _auth(self, request: web.Request, kind: str) -> Grant:
        return self.tokens.verify(request.headers.get("Authorization"), kind)

    def _dispatch(self, request: web.Request, parts: list[str], raw: bytes) -> Answer:
        if len(parts) < 5 or parts[2] not in _SERVICES or parts[3] != "api":
            raise _NoRoute()
        rest, method = parts[4:], request.method
        query: Mapping[str, str] = request.query
        if rest[0] == "v3":
            return Answer(*self.v3.answer(request, rest[1:], raw))
        if rest and rest[0] == "Entity":
            return self._schema(request, rest[1:])
        full_text = False
        if rest[:2] == ["v2", "EntityService"]:
            rest, full_text = rest[1:], True  # v2 read-one returns whole MULTILINE_MAX text
        if len(rest) >= 4 and rest[0] == "Attachment":
            return self._attachment(request, rest[1:], raw)
        if len(rest) < 3 or rest[0] != "EntityService":
            raise _NoRoute()
        by_key = rest[1] == "entity" and len(rest) >= 4
        key, op, tail = (rest[2], rest[3], rest[4:]) if by_key else (rest[1], rest[2], rest[3:])
        kind = _OPS.get((op, method, len(tail)))
        if kind is None:
            known = any(o == op and n == len(tail) for o, _, n in _OPS)
            raise _NoRoute(405 if known else 404)
        if op in ("bulk-upload", "query_expansion") and not by_key:
            raise _NoRoute()
        grant = self._auth(request, kind)
        if op == "query_expansion":
            return Answer(200, self._choice_values(key, query))
        entity = find_entity(key) if by_key else ENTITIES.get(key)
        if entity is None:
            raise DsError(404, f"Entity '{key}' does not exist.")
        records, user = self.records, grant.user
        if op == "read":
            if tail:
                return Answer(200, records.read(entity, tail[0], query, full_text))
            return Answer(200, records.list(entity, query))
        if op == "bulk-upload":
            part = multipart_file(raw, request.headers.get("Content-Type", ""))
            return Answer(200, self.files.import_csv(entity, part, user))
        if op == "delete":
            return Answer(200, records.delete(entity, tail[0]))
        ctype = request.content_type
        if op == "query":
            return Answer(200, records.query(entity, json_body(raw, ctype), query))
        if op == "insert":
            return Answer(200, records.insert(entity, json_body(raw, ctype), query, user))
        if op == "update":
            return Answer(200, records.update(entity, tail[0], json_body(raw, ctype), query,
                                              user))
        status, body = records.batch(op.split("-")[0], entity, json_body(raw, ctype), query, user)
        return Answer(status, body)

    def _schema(self, request: web.Request, rest: list[str]) -> Answer:
        if request.method != "GET":
            raise _NoRoute(405)
        if len(rest) > 2 or (len(rest) == 2 and rest[1] != "metadata"):
            raise _NoRoute()
        self._auth(request, "schema")
        if not rest:
            return Answer(200, [self._metadata(e) for e in ENTITIES.values()])
        if rest == ["choiceset"]:
            return Answer(200, [choice_set_metadata(cs) for cs in CHOICE_SETS.values()])
        entity = ENTITIES.get(rest[0]) if len(rest) == 2 else find_entity(rest[0])
        if entity is None:
            raise DsError(404, f"Entity '{rest[0]}' does not exist.")
        return Answer(200, self._metadata(entity))

    def _metadata(self, entity: EntityDef) -> dict[str, Any]:
        size = sum(len(b.data) for (name, _, _), b in self.store.files.items()
                   if name == entity.name)
        return entity_metadata(entity, len(self.store.rows(entity.name)), size)

    def _choice_values(self, key: str, query: Mapping[str, str]) -> dict[str, Any]:
        cs = next((c for c in CHOICE_SETS.values() if key in (c.id, c.name)), None)
        if cs is None:
            raise DsError(404, f"Choice set '{key}' does not exist.")
        values = [{"Id": f"{cs.id[:-4]}{number:04x}", "Name": name, "DisplayName": display,
                   "NumberId": number} for name, display, number in cs.values]
        # The values travel as a JSON-encoded string in jsonValue [UP-TS, UP-PY].
        return {"jsonValue": orjson.dumps(values).decode(), "totalRecordCount": len(values)}

    def _attachment(self, request: web.Request, rest: list[str], raw: bytes) -> Answer:
        by_key = rest[0] == "entity" and len(rest) == 4
        if not by_key and len(rest) != 3:
            raise _NoRoute()
        key, record_id, fname = rest[1:] if by_key else rest
        kinds = {"GET": "read", "POST": "write", "DELETE": "write"}
        if request.method not in kinds:
            raise _NoRoute(405)
        grant = self._auth(request, kinds[request.method])
        entity = find_entity(key) if by_key else ENTITIES.get(key)
        if entity is None:
            raise DsError(404, f"Entity '{key}' does not exist.")
        if request.method == "GET":
            return Answer(200, file=self.files.download(entity, record_id, fname))
        self.records.expansion(request.query)
        if request.method == "POST":
            part = multipart_file(raw, request.headers.get("Content-Type", ""))
            self.files.upload(entity, record_id, fname, part, grant.user)
        else:
            self.files.remove(entity, record_id, fname, grant.user)
        return Answer(200)


EMULATOR_KEY = web.AppKey("dataservice_emulator", DataServiceEmulator)


def create_app(user: str | None = None, password: str | None = None,
               **kw: Any) -> web.Application:
    """The emulator's app for `gateway emulator dataservice` and the demo.

    user/password are the client id and secret (default recordgate / recordgate-secret); given
    ones replace the default, so the default pair is then refused."""
    clients = {user or "recordgate": password or "recordgate-secret"}
    return DataServiceEmulator(clients=kw.pop("clients", clients), **kw).app
