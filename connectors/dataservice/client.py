"""Typed calls to the Data Service's name-keyed ``EntityService``/``Entity`` paths via Upstream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.dataservice.config import DataServiceSource
from gateway.kit.base import BackendClient
from gateway.upstream.client import Upstream

__all__ = ["DataServiceClient", "envelope"]


def envelope(body: Any) -> tuple[list[dict[str, Any]], int | None]:
    """``{"totalRecordCount", "value"}`` read case-insensitively (the docs spell them in
    PascalCase, the SDKs in camelCase; the Python SDK also reads ``totalCount``)."""
    if not isinstance(body, dict):
        raise ValueError("not an object")
    keys = {k.lower(): v for k, v in body.items() if isinstance(k, str)}
    records = keys.get("value")
    if not isinstance(records, list):
        raise ValueError("no value list")
    total = keys.get("totalrecordcount", keys.get("totalcount"))
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        total = None
    return [r for r in records if isinstance(r, dict)], total


class DataServiceClient(BackendClient):
    """The service's endpoints as methods returning decoded JSON; errors as gateway errors."""

    backend = "Data Service"

    def __init__(self, upstream: Upstream, config: DataServiceSource) -> None:
        super().__init__(upstream, config.api_url)
        self._headers = {"X-UIPATH-FolderKey": config.folderKey} if config.folderKey else None
        self._expansion = (
            {"expansionLevel": str(config.expansionLevel)}
            if config.expansionLevel is not None else {}
        )

    @property
    def headers(self) -> Mapping[str, str] | None:
        return self._headers

    async def _json(self, op: str, method: str, url: str, *, safe: bool,
                    params: Mapping[str, str] | None = None, json: Any = None) -> Any:
        resp = await self.upstream.request(op, method, url, safe=safe, params=params, json=json,
                                      headers=self._headers)
        return resp.json()

    async def object(self, op: str, method: str, url: str, **kw: Any) -> dict[str, Any]:
        return await super().object(op, method, url, headers=self._headers, **kw)

    async def query(self, entity: str, body: dict[str, Any], op: str = "query"
                    ) -> tuple[list[dict[str, Any]], int | None]:
        """``POST /EntityService/<E>/query`` → (records, totalRecordCount)."""
        answer = await self._json(op, "POST", self.url("EntityService", entity, "query"),
                                  safe=True, params=self._expansion or None, json=body)
        try:
            return envelope(answer)
        except ValueError:
            raise self.bad(op) from None

    async def entities(self) -> list[dict[str, Any]]:
        """``GET /Entity``: the tenant's entities (with or without their fields)."""
        answer = await self._json("metadata", "GET", self.url("Entity"), safe=True)
        if isinstance(answer, dict):  # tolerate an enveloped list
            answer = {k.lower(): v for k, v in answer.items()}.get("value")
        if not isinstance(answer, list):
            raise self.bad("metadata")
        return [e for e in answer if isinstance(e, dict) and isinstance(e.get("name"), str)]

    async def entity(self, entity_id: str) -> dict[str, Any]:
        """``GET /Entity/<id>``: one entity's schema with its fields."""
        return await self.object("metadata", "GET", self.url("Entity", entity_id), safe=True)

    async def read(self, entity: str, record_id: str) -> dict[str, Any]:
        return await self.object("get", "GET", self.url("EntityService", entity, "read",
                                                         record_id),
                                  safe=True, params=self._expansion or None)

    async def insert(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.object("create", "POST", self.url("EntityService", entity, "insert"),
                                  safe=False, params=self._expansion or None, json=data)

    async def update(self, entity: str, record_id: str, data: dict[str, Any]) -> dict[str, Any]:
        # POST, not PUT/PATCH: omitted fields are left alone, an explicit null clears.
        return await self.object(
            "update", "POST", self.url("EntityService", entity, "update", record_id),
            safe=False, params=self._expansion or None, json=data,
        )

    async def delete(self, entity: str, record_id: str) -> None:
        await self.upstream.request("delete", "DELETE",
                               self.url("EntityService", entity, "delete", record_id),
                               safe=False, headers=self._headers, expect_json=False)

    async def batch(self, op: str, entity: str, path: str, items: list[Any],
                    fail_on_first: bool) -> Any:
        """``POST /EntityService/<E>/<insert|update|delete>-batch`` → the raw answer."""
        params = {"failOnFirst": "true" if fail_on_first else "false"}
        if path != "delete-batch":
            params |= self._expansion
        return await self._json(op, "POST", self.url("EntityService", entity, path),
                                safe=False, params=params, json=items)
