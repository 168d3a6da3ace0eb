"""Typed calls to Slingr runtime API paths; each is one logical backend call through Upstream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.kit.base import BackendClient
from gateway.upstream.urls import joined

__all__ = ["ListAnswer", "SlingrClient"]


@dataclass(frozen=True, slots=True)
class ListAnswer:
    """``GET /data/{entity}``: matches over all pages, the next id offset, this page."""

    total: int
    offset: str | None
    items: list[dict[str, Any]]


class SlingrClient(BackendClient):
    """Slingr's endpoints as methods returning decoded JSON; errors come out as gateway errors."""

    backend = "Slingr"

    async def query(self, entity: str, params: dict[str, str]) -> ListAnswer:
        """``GET /data/{entity}?<query>``."""
        answer = await self.object(
            "query", "GET", self.url("data", entity), params=params, safe=True
        )
        total, offset, items = answer.get("total"), answer.get("offset"), answer.get("items")
        if not isinstance(total, int) or isinstance(total, bool) or not isinstance(items, list):
            raise self.bad("list")
        if offset is not None and not isinstance(offset, str | int):
            raise self.bad("list")
        records = [r for r in items if isinstance(r, dict)]
        return ListAnswer(total, None if offset is None else str(offset), records)

    async def get(self, entity: str, record_id: str, fields: list[str] | None) -> dict[str, Any]:
        params = {"_fields": ",".join(fields)} if fields else None
        return await self.object(
            "get", "GET", self.url("data", entity, record_id), params=params, safe=True
        )

    async def create(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.object("create", "POST", self.url("data", entity), json=data, safe=False)

    async def update(self, entity: str, record_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.object(
            "update", "PUT", self.url("data", entity, record_id), json=data, safe=False
        )

    async def delete(self, entity: str, ids: list[str], *, job: bool = False) -> dict[str, Any]:
        """``DELETE /data/{entity}/{ids}``: the record (one id), the per-id map (several), or
        the job reference (``job``)."""
        params = {"_async": "true"} if job else None
        url = f"{self.url('data', entity)}/{joined(ids, ',')}"
        return await self.object("delete", "DELETE", url, params=params, safe=False)
