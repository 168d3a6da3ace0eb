"""A test-only in-memory connector (type ``memory``) for exercising the HTTP layer end to end."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from pydantic import SecretStr

from gateway.config.base import SourceBase, StrictModel
from gateway.connector import Capabilities, EntityInfo, FieldInfo, Page, PushedQuery, Record
from gateway.errors import BackendUnavailable, Conflict, NotFound, SourceInfo
from gateway.query.model import Condition, Filter
from gateway.registry import ConnectorType
from gateway.upstream.context import UpstreamContext, record_call

__all__ = ["MEMORY_TYPE", "STORES", "MemoryConnector", "MemorySource", "MemoryStore"]


class MemoryAuth(StrictModel):
    password: SecretStr


class MemorySource(SourceBase):
    type: Literal["memory"]
    auth: MemoryAuth


ACCOUNT_FIELDS = {
    "name": FieldInfo("name"),
    "industry": FieldInfo("industry"),
    "annual_revenue": FieldInfo("annual_revenue", "number"),
    "date_entered": FieldInfo("date_entered", "datetime"),
}


@dataclass
class MemoryStore:
    """Records per entity, with a version each; ``down`` makes checks and calls fail."""

    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    down: bool = False
    checks: int = 0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))


# source name -> its store; filled by the fixtures, read by the factory
STORES: dict[str, MemoryStore] = {}


class MemoryConnector:
    capabilities = Capabilities(
        operators=frozenset(), or_groups=False, sort=False, multi_sort=False, max_page=50,
        counts=False,
    )

    def __init__(self, name: str, cfg: MemorySource, ctx: UpstreamContext) -> None:
        self.name = name
        self.password = cfg.auth.password.get_secret_value()
        self.ctx = ctx
        self.store = STORES.setdefault(name, MemoryStore())
        self.closed = False

    def _unavailable(self) -> BackendUnavailable:
        return BackendUnavailable(
            "backend_unavailable_said", {"source": self.name, "text": "in maintenance"},
            retry_after=7.2,
            source=SourceInfo(self.name, 503, "maintenance"),
        )

    def _entity(self, entity: str) -> dict[str, Record]:
        record_call(0.002)
        if entity == "boom":
            # A connector bug whose message carries the backend password: it must reach
            # neither the caller nor the logs.
            raise RuntimeError(f"bug while logging in with password={self.password}")
        if self.store.down or entity == "flaky":
            raise self._unavailable()
        if entity not in self.store.records:
            raise NotFound("unknown_entity", {"entity": entity, "source": self.name})
        return self.store.records[entity]

    async def entities(self) -> list[EntityInfo]:
        return [await self.describe(e) for e in self.store.records]

    async def describe(self, entity: str) -> EntityInfo:
        if entity in ("boom", "flaky"):
            return EntityInfo(entity, {})
        self._entity(entity)
        return EntityInfo(entity, ACCOUNT_FIELDS, label=entity.title())

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return False

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        rows = sorted(self._entity(entity.name).values(), key=lambda r: str(r["id"]))
        chunk = [dict(r) for r in rows[offset:offset + limit]]
        return Page(chunk, more=offset + limit < len(rows))

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        return len(self._entity(entity.name))

    def _record(self, entity: str, record_id: str) -> Record:
        rec = self._entity(entity).get(record_id)
        if rec is None:
            raise NotFound("record_not_found",
                           {"id": record_id, "source": self.name, "entity": entity},
                           source=SourceInfo(self.name, 404, "not_found"))
        return rec

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        rec = dict(self._record(entity, record_id))
        rec["version"] = str(self.store.versions.get((entity, record_id), 1))
        return rec

    async def create(self, entity: str, data: Record) -> Record:
        records = self._entity(entity)
        new_id = str(data.get("id") or next(self.store.ids))
        records[new_id] = {**data, "id": new_id}
        self.store.versions[entity, new_id] = 1
        return dict(records[new_id])

    async def update(
        self, entity: str, record_id: str, data: Record, version: str | None
    ) -> Record:
        rec = self._record(entity, record_id)
        current = self.store.versions.get((entity, record_id), 1)
        if version is not None and version != str(current):
            raise Conflict("version_changed", {"id": record_id, "source": self.name,
                                               "entity": entity, "version": version},
                           source=SourceInfo(self.name, 409, "version_mismatch"))
        rec.update(data)
        self.store.versions[entity, record_id] = current + 1
        return {**rec, "version": str(current + 1)}

    async def delete(self, entity: str, record_id: str) -> None:
        self._record(entity, record_id)
        del self._entity(entity)[record_id]

    async def check(self) -> None:
        self.store.checks += 1
        if self.store.down:
            raise self._unavailable()

    async def aclose(self) -> None:
        self.closed = True


def _factory(
    name: str, cfg: Any, session: aiohttp.ClientSession, ctx: UpstreamContext
) -> MemoryConnector:
    return MemoryConnector(name, cfg, ctx)


MEMORY_TYPE = ConnectorType(name="memory", config_model=MemorySource, factory=_factory)
