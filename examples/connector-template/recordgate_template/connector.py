"""TemplateConnector: the gateway's Connector port on the template backend's HTTP API.

Everything backend-specific a real connector changes is here or in ``auth.py``/``errors.py``:
the paths, what the backend can evaluate (``capabilities``, ``pushable``), and how its records
and failures read in gateway terms. Retries, the token cache, the breaker, deadlines and metrics
come from ``gateway.upstream``; whatever the backend cannot do, the gateway finishes exactly.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import aiohttp
from cachetools import TTLCache

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
from gateway.errors import BackendFailure, NotFound, SourceInfo
from gateway.query.model import Condition, Filter
from gateway.upstream.client import Upstream
from gateway.upstream.context import UpstreamContext
from gateway.upstream.tokens import TokenCache
from gateway.upstream.urls import join
from recordgate_template.auth import LoginTokens, bearer
from recordgate_template.config import TemplateSource
from recordgate_template.errors import classify

__all__ = ["TemplateConnector"]

# The backend's field types → the gateway's.
_TYPES: dict[str, FieldType] = {"text": "string", "int": "integer", "timestamp": "datetime"}
_UUID = IdShape(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "lowercase UUIDs")
_READ_ONLY = ("id", "version")  # the backend sets these itself
_METADATA_TTL = 300.0  # seconds the entity list is reused: the gateway describes per request


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


class TemplateConnector:
    """One template backend for one set of credentials; does not own the shared session."""

    def __init__(self, name: str, config: TemplateSource, session: aiohttp.ClientSession,
                 ctx: UpstreamContext) -> None:
        self.name = name
        self.capabilities = capabilities(config.maxPerCall)
        self._base = config.base_url
        self._up = Upstream(session, ctx, partial(classify, name))
        self._tokens = TokenCache(LoginTokens(self._up, config), ctx)
        self._up.use_auth(self._tokens, bearer)
        self._meta: TTLCache[str, list[EntityInfo]] = TTLCache(maxsize=1, ttl=_METADATA_TTL)
        ctx.redactor.add(config.auth.password.get_secret_value())

    async def _json(self, op: str, method: str, *path: str, safe: bool, **kw: Any) -> Any:
        return (await self._up.request(op, method, join(self._base, "api", *path),
                                       safe=safe, **kw)).json()

    def _malformed(self, what: str) -> BackendFailure:
        return BackendFailure(f"{self.name}: the {what} answer has an unexpected shape",
                              sent=True, source=SourceInfo(self.name, 200, "malformed_body"))

    def _record_not_found(self, entity: str, record_id: str, exc: NotFound) -> NotFound:
        return NotFound(f"Record {record_id} was not found in {self.name}/{entity}",
                        key="record_not_found", source=exc.source,
                        params={"source": self.name, "entity": entity, "id": record_id})

    # -- discovery ---------------------------------------------------------------------------

    async def entities(self) -> list[EntityInfo]:
        cached = self._meta.get("all")
        if cached is not None:
            return cached
        meta = await self._json("meta", "GET", "meta", safe=True)
        if not isinstance(meta, dict) or not all(isinstance(f, dict) for f in meta.values()):
            raise self._malformed("metadata")
        found = [EntityInfo(name, {f: FieldInfo(f, _TYPES.get(t, "string"))
                                   for f, t in {"id": "text", **fields}.items()})
                 for name, fields in meta.items()]
        self._meta["all"] = found
        return found

    async def describe(self, entity: str) -> EntityInfo:
        for info in await self.entities():
            if info.name == entity:
                return info
        raise NotFound(f"Entity {entity} was not found in {self.name}", key="unknown_entity",
                       params={"source": self.name, "entity": entity})

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
            raise self._malformed("list")
        return Page([_present(r, pushed.fields) for r in items],
                    more=offset + len(items) < total, total=total)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        return (await self.query(entity, PushedQuery(filter), 0, 1)).total or 0

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        try:
            return _present(await self._json("get", "GET", entity, record_id, safe=True), fields)
        except NotFound as exc:
            raise self._record_not_found(entity, record_id, exc) from None

    # -- writes: never repeated unless provably unsent (safe=False) ------------------------

    async def create(self, entity: str, data: Record) -> Record:
        body = {k: v for k, v in data.items() if k not in _READ_ONLY}
        return _present(await self._json("create", "POST", entity, safe=False, json=body), None)

    async def update(self, entity: str, record_id: str, data: Record,
                     version: str | None) -> Record:
        body = {k: v for k, v in data.items() if k not in _READ_ONLY}
        headers = {"If-Match": version} if version is not None else None
        try:
            answer = await self._json("update", "PATCH", entity, record_id, safe=False,
                                      json=body, headers=headers)
        except NotFound as exc:
            raise self._record_not_found(entity, record_id, exc) from None
        return _present(answer, None)

    async def delete(self, entity: str, record_id: str) -> None:
        try:
            await self._json("delete", "DELETE", entity, record_id, safe=False)
        except NotFound as exc:
            raise self._record_not_found(entity, record_id, exc) from None

    # No write_batch, open_file, put_file or delete_file: this backend has no batch call and
    # stores no files, so the connector leaves out those roles (BatchWriter, FileStore) and
    # the gateway answers 422 unsupported itself.

    # -- lifecycle ---------------------------------------------------------------------------

    async def check(self) -> None:
        """Readiness: a login proves the backend answers and the credentials work."""
        await self._tokens.get()

    async def aclose(self) -> None:
        self._tokens.clear()


def _present(record: Any, fields: tuple[str, ...] | None) -> Record:
    """A backend record as the gateway shows it: all of it, or ``id`` and the asked fields."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise BackendFailure("the backend answered a record without an id", sent=True)
    if fields is None:
        return record
    return {k: v for k, v in record.items() if k == "id" or k in fields}
