"""Typed calls to SugarCRM v10 paths; each is one logical backend call through Upstream."""

from __future__ import annotations

from collections.abc import AsyncIterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import orjson

from gateway.kit.base import BackendClient

__all__ = ["SugarClient"]


class SugarClient(BackendClient):
    """Sugar's endpoints as methods returning decoded JSON; errors come out as gateway errors."""

    backend = "SugarCRM"

    async def filter(self, module: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """``POST /<Module>/filter`` → (records, next_offset)."""
        answer = await self.object(
            "query", "POST", self.url(module, "filter"), json=body, safe=True
        )
        records, nxt = answer.get("records"), answer.get("next_offset")
        if not isinstance(records, list) or not isinstance(nxt, int):
            raise self.bad("filter")
        return [r for r in records if isinstance(r, dict)], nxt

    async def count(self, module: str, filter: list[dict[str, Any]]) -> int:
        """``GET /<Module>/count?filter=<json>``."""
        params = {"filter": orjson.dumps(filter).decode()} if filter else None
        answer = await self.object(
            "count", "GET", self.url(module, "count"), params=params, safe=True
        )
        n = answer.get("record_count")
        if not isinstance(n, int):
            raise self.bad("count")
        return n

    async def metadata(self, module: str | None) -> dict[str, Any]:
        """``GET /metadata?type_filter=modules[&module_filter=M]`` → ``{module: {fields}}``."""
        params = {"type_filter": "modules"}
        if module is not None:
            params["module_filter"] = module
        answer = await self.object(
            "metadata", "GET", self.url("metadata"), params=params, safe=True
        )
        modules = answer.get("modules")
        if not isinstance(modules, dict):
            raise self.bad("metadata")
        return modules

    async def get(self, module: str, record_id: str, fields: list[str] | None) -> dict[str, Any]:
        params = {"fields": ",".join(fields)} if fields else None
        return await self.object(
            "get", "GET", self.url(module, record_id), params=params, safe=True
        )

    async def create(self, module: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.object("create", "POST", self.url(module), json=data, safe=False)

    async def update(
        self, module: str, record_id: str, data: dict[str, Any], version: str | None
    ) -> dict[str, Any]:
        headers = {"X-Timestamp": version} if version else None
        return await self.object(
            "update", "PUT", self.url(module, record_id), json=data, headers=headers, safe=False
        )

    async def delete(self, module: str, record_id: str) -> None:
        await self.upstream.request("delete", "DELETE", self.url(module, record_id), safe=False)

    async def bulk(self, requests: list[dict[str, Any]]) -> list[Any]:
        """``POST /bulk``: one answer item per request, in order. A write: never repeated once
        it may have been sent, whatever its items are."""
        answer = (await self.upstream.request(
            "bulk", "POST", self.url("bulk"), json={"requests": requests}, safe=False
        )).json()
        if not isinstance(answer, list) or len(answer) != len(requests):
            raise self.bad("bulk")
        return answer

    # -- files on record fields (FileApi) -------------------------------------------------------

    def download(
        self, module: str, record_id: str, field: str
    ) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        """``GET /<Module>/<id>/file/<field>``: the open answer; an empty field is a 404."""
        return self.upstream.stream(
            "file_get", "GET", self.url(module, record_id, "file", field), safe=True
        )

    async def upload(
        self,
        module: str,
        record_id: str,
        field: str,
        *,
        filename: str,
        content_type: str,
        chunks: AsyncIterable[bytes],
        size: int | None,
    ) -> dict[str, Any]:
        """``PUT /<Module>/<id>/file/<field>?filename=…`` with the raw bytes as the body.

        The raw form rather than the multipart POST: the body is the file itself, streamed
        as it comes, and a non-ASCII name travels URL-encoded in the query, which PHP decodes,
        where PHP's multipart parser would not read an RFC 5987 ``filename*``.
        """
        headers = {"Content-Type": content_type}
        if size is not None:
            headers["Content-Length"] = str(size)  # PHP front ends handle a length best
        async with self.upstream.stream(
            "file_put", "PUT", self.url(module, record_id, "file", field), safe=False,
            params={"filename": filename}, body=chunks, headers=headers,
        ) as resp:
            body = (await self.upstream.read(resp)).json()
        if not isinstance(body, dict):
            raise self.bad("file upload")
        return body

    async def remove_file(self, module: str, record_id: str, field: str) -> None:
        """``DELETE /<Module>/<id>/file/<field>`` (Sugar answers 200 even when it was empty)."""
        await self.upstream.request(
            "file_delete", "DELETE", self.url(module, record_id, "file", field), safe=False
        )

    async def ping(self) -> None:
        await self.upstream.request("ping", "GET", self.url("ping"), safe=True)
