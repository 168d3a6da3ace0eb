"""The v3 surface (`…/datafabric_/api/v3/entities…`): entity metadata and records by entity id.

What uipath-platform 0.2.41's `*_v3` methods call [UP-PY `_entity_data_service.py`,
`_entity_schema_service.py`, tests/services/test_entities_service_v3.py]:

    GET    v3/entities                          list entities           (schema scope)
    GET    v3/entities/<id>                     one entity's schema     (schema scope)
    GET    v3/entities/<Name>/metadata          one entity, by name     (schema scope)
    GET    v3/entities/entity/<id>/read         start, limit, expansionLevel
    GET    v3/entities/entity/<id>/read/<rid>   expansionLevel
    POST   v3/entities/entity/<id>/query        QueryRequest body; expansionLevel in the URL
    POST   v3/entities/entity/<id>/insert       | update/<rid>
    DELETE v3/entities/entity/<id>/delete/<rid>
    POST   v3/entities/entity/<id>/insert-batch | update-batch | delete-batch   (failOnFirst)

The released SDK parses every v3 answer with its v1 parsers, so the bodies, paging
(`totalRecordCount` + `value`, offset paging), batch shape and errors are the v1 ones and are
served by the same `Records` over the same store. Differences kept here: the by-id query refuses
`joins` with a 400 (the SDK keeps joined queries on v1 for that reason); aggregates, groupBy and
binnings (feature-flagged on the service) are refused rather than silently ignored; metadata
carries `entityClass` (every emulated entity is `Native`; Federated entities are not emulated);
v3 has no CSV import and no choice-set values. Entity create/delete/metadata writes answer 405.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from connectors.dataservice.emulator.auth import Grant
from connectors.dataservice.emulator.errors import DsError
from connectors.dataservice.emulator.records import Records
from connectors.dataservice.emulator.schema import ENTITIES, EntityDef, find_entity
from connectors.dataservice.emulator.wire import json_body

__all__ = ["V3Surface"]

Answer = tuple[int, Any]  # (status, JSON body); a None body is ASP.NET's empty no-route answer
# (operation, method, path segments after it) -> scope kind
_OPS = {("read", "GET", 0): "read", ("read", "GET", 1): "read", ("query", "POST", 0): "read",
        ("insert", "POST", 0): "write", ("update", "POST", 1): "write",
        ("delete", "DELETE", 1): "write", ("insert-batch", "POST", 0): "write",
        ("update-batch", "POST", 0): "write", ("delete-batch", "POST", 0): "write"}
# Query body keys the emulator's v3 query does not evaluate; `joins` is refused by the service.
_REFUSED = {"joins": "Joins are not supported on the v3 entity query; use the EntityService "
                     "query route.",
            "aggregates": "Aggregates are not enabled for this tenant.",
            "groupBy": "Aggregates are not enabled for this tenant.",
            "binnings": "Binnings are not enabled for this tenant."}


class V3Surface:
    """Routes the v3 paths onto the emulator's records and schema; answers (status, body)."""

    def __init__(self, records: Records, auth: Callable[[web.Request, str], Grant],
                 metadata: Callable[[EntityDef], dict[str, Any]]) -> None:
        self.records = records
        self._auth = auth
        self._metadata = metadata

    def answer(self, request: web.Request, rest: list[str], raw: bytes) -> Answer:
        """`rest` is the path after `api/v3`."""
        if not rest or rest[0] != "entities":
            return 404, None
        if len(rest) >= 4 and rest[1] == "entity":
            return self._records(request, rest[2], rest[3], rest[4:], raw)
        return self._schema(request, rest[1:])

    def _entity_meta(self, entity: EntityDef) -> dict[str, Any]:
        return {**self._metadata(entity), "entityClass": "Native"}

    def _schema(self, request: web.Request, rest: list[str]) -> Answer:
        if len(rest) > 2 or (len(rest) == 2 and rest[1] != "metadata") or rest[:1] == ["entity"]:
            return 404, None
        if request.method != "GET":
            return 405, None  # create, delete and PATCH …/metadata: schema writes not emulated
        self._auth(request, "schema")
        if not rest:
            return 200, [self._entity_meta(e) for e in ENTITIES.values()]
        entity = ENTITIES.get(rest[0]) if len(rest) == 2 else find_entity(rest[0])
        if entity is None:
            raise DsError(404, f"Entity '{rest[0]}' does not exist.")
        return 200, self._entity_meta(entity)

    def _records(self, request: web.Request, key: str, op: str, tail: list[str],
                 raw: bytes) -> Answer:
        method = request.method
        kind = _OPS.get((op, method, len(tail)))
        if kind is None:
            known = any(o == op and n == len(tail) for o, _, n in _OPS)
            return (405 if known else 404), None
        grant = self._auth(request, kind)
        entity = find_entity(key)
        if entity is None:
            raise DsError(404, f"Entity '{key}' does not exist.")
        records, user, query = self.records, grant.user, request.query
        if op == "read":
            if tail:
                return 200, records.read(entity, tail[0], query, False)
            return 200, records.list(entity, query)
        if op == "delete":
            return 200, records.delete(entity, tail[0])
        body = json_body(raw, request.content_type)
        if op == "query":
            return 200, records.query(entity, _refuse_unsupported(body), query)
        if op == "insert":
            return 200, records.insert(entity, body, query, user)
        if op == "update":
            return 200, records.update(entity, tail[0], body, query, user)
        return records.batch(op.split("-")[0], entity, body, query, user)


def _refuse_unsupported(body: Any) -> Any:
    if isinstance(body, Mapping):
        for name, message in _REFUSED.items():
            if body.get(name):
                raise DsError(400, message)
    return body
