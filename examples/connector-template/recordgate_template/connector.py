"""TemplateConnector: the gateway's Connector port on the template backend's HTTP API.

Everything backend-specific a real connector changes is here or in ``auth.py``/``errors.py``:
the paths, what the backend can evaluate (``capabilities``, ``pushable``), and how its records
and failures read in gateway terms. Retries, the token cache, the breaker, deadlines, metrics
and the common errors come from ``gateway.kit`` and ``gateway.upstream``; whatever the backend
cannot do, the gateway finishes exactly.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import aiohttp

from gateway.connector import (
    Capabilities,
    Collation,
    EntityInfo,
    FieldInfo,
    FieldType,
    IdShape,
    Page,
    PushedQuery,
    Record,
)
from gateway.errors import NotFound
from gateway.kit.base import BackendClient, HttpConnector
from gateway.query.model import Condition, Filter
from gateway.upstream.context import UpstreamContext
from gateway.upstream.urls import join
from recordgate_template.auth import LoginTokens
from recordgate_template.config import TemplateSource
from recordgate_template.errors import TABLE

__all__ = ["TemplateConnector"]

# The backend's field types → the gateway's.
_TYPES: dict[str, FieldType] = {"text": "string", "int": "integer", "timestamp": "datetime"}
_UUID = IdShape(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "lowercase UUIDs")
_READ_ONLY = ("id", "version")  # the backend sets these itself


def capabilities(max_page: int) -> Capabilities:
    """Promises the planner relies on: only what the backend does exactly as the gateway would.

    The backend matches ``eq.<field>=value`` exactly (code points, case-sensitive) and pages in
    id order; it cannot sort, OR, or do any other operator, so the gateway finishes those.
    """
    return Capabilities(
        operators=frozenset({"=="}), or_groups=False, sort=False, multi_sort=False,
        max_page=max_page, counts=True, page_totals=True,
        collation=Collation(case_insensitive=False, nulls_first=True),
        id_shape=_UUID,
    )


class TemplateConnector(HttpConnector):
    """One template backend for one set of credentials; does not own the shared session.

    ``HttpConnector`` (``gateway.kit.base``) assembles the upstream (retries, breaker,
    deadlines, metrics, errors classified by ``TABLE``), the token cache over
    ``token_source()``, the redaction of the password, the 5-minute metadata cache, the
    common not-found errors and ``check``/``aclose``.
    """

    backend = "Template backend"
    table = TABLE

    def __init__(self, name: str, config: TemplateSource, session: aiohttp.ClientSession,
                 ctx: UpstreamContext) -> None:
        self.config = config
        super().__init__(name, config, session, ctx,
                         secrets=[config.auth.password.get_secret_value()])
        self.capabilities = capabilities(config.maxPerCall)
        self._api = BackendClient(self.upstream, join(config.base_url, "api"))

    def token_source(self) -> LoginTokens:
        return LoginTokens(self.upstream, self.config)

    async def _json(self, op: str, method: str, *path: str, safe: bool, **kw: Any) -> Any:
        return (await self.upstream.request(op, method, self._api.url(*path),
                                            safe=safe, **kw)).json()

    # -- discovery ---------------------------------------------------------------------------

    async def entities(self) -> list[EntityInfo]:
        meta = await self._api.object("meta", "GET", self._api.url("meta"), safe=True)
        if not all(isinstance(f, dict) for f in meta.values()):
            raise self.malformed("metadata")
        found = [EntityInfo(name, {f: FieldInfo(f, _TYPES.get(t, "string"))
                                   for f, t in {"id": "text", **fields}.items()})
                 for name, fields in meta.items()]
        for info in found:
            self.meta[info.name] = info
        return found

    async def describe(self, entity: str) -> EntityInfo:
        return await self.described(entity, partial(self._describe, entity))

    async def _describe(self, entity: str) -> EntityInfo:
        for info in await self.entities():
            if info.name == entity:
                return info
        raise self.unknown_entity(entity)

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        # Only text equality: the backend compares the JSON values as they are stored.
        field = entity.field(condition.field)
        return (condition.operator == "==" and field is not None and field.type == "string"
                and field.name != "id" and isinstance(condition.value, str))

    # -- reads -------------------------------------------------------------------------------

    def _params(self, filter: Filter) -> dict[str, str]:
        if len(filter) > 1:  # or_groups=False: the planner never pushes an OR
            raise AssertionError("an OR of groups was pushed to a backend without OR")
        return {f"eq.{c.field}": str(c.value) for group in filter for c in group.conditions}

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int,
                    limit: int) -> Page:
        params = {**self._params(pushed.filter), "offset": str(offset), "limit": str(limit)}
        answer = await self._json("query", "GET", entity.name, safe=True, params=params)
        items = answer.get("items") if isinstance(answer, dict) else None
        total = answer.get("total") if isinstance(answer, dict) else None
        if not isinstance(items, list) or type(total) is not int:
            raise self.malformed("list")
        return Page([self._present(r, pushed.fields) for r in items],
                    more=offset + len(items) < total, total=total)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        return (await self.query(entity, PushedQuery(filter), 0, 1)).total or 0

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        try:
            answer = await self._json("get", "GET", entity, record_id, safe=True)
            return self._present(answer, fields)
        except NotFound as exc:
            raise self.record_not_found(entity, record_id, exc.source) from None

    # -- writes: never repeated unless provably unsent (safe=False) ------------------------

    async def create(self, entity: str, data: Record) -> Record:
        body = {k: v for k, v in data.items() if k not in _READ_ONLY}
        answer = await self._json("create", "POST", entity, safe=False, json=body)
        return self._present(answer, None)

    async def update(self, entity: str, record_id: str, data: Record,
                     version: str | None) -> Record:
        body = {k: v for k, v in data.items() if k not in _READ_ONLY}
        headers = {"If-Match": version} if version is not None else None
        try:
            answer = await self._json("update", "PATCH", entity, record_id, safe=False,
                                      json=body, headers=headers)
        except NotFound as exc:
            raise self.record_not_found(entity, record_id, exc.source) from None
        return self._present(answer, None)

    async def delete(self, entity: str, record_id: str) -> None:
        try:
            await self._json("delete", "DELETE", entity, record_id, safe=False)
        except NotFound as exc:
            raise self.record_not_found(entity, record_id, exc.source) from None

    # No write_batch, open_file, put_file or delete_file: this backend has no batch call and
    # stores no files, so the connector leaves out those roles (BatchWriter, FileStore) and
    # the gateway answers 422 unsupported itself.

    def _present(self, record: Any, fields: tuple[str, ...] | None) -> Record:
        """A backend record as the gateway shows it: all of it, or ``id`` and the asked
        fields; a record without its id is an answer the gateway cannot use."""
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise self.malformed("record")
        if fields is None:
            return record
        return {k: v for k, v in record.items() if k == "id" or k in fields}

    # check (a login proves the backend answers and the credentials work) and aclose (forget
    # the token) come from HttpConnector.
