"""Typed calls to SugarCRM v10 paths; each is one logical backend call through Upstream."""

from __future__ import annotations

from collections.abc import AsyncIterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import orjson

from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.urls import join

__all__ = ["SugarClient"]


class SugarClient:
    """Sugar's endpoints as methods returning decoded JSON; errors come out as gateway errors."""

    def __init__(self, upstream: Upstream, base_url: str) -> None:
        self._up = upstream
        self._base = base_url

    def _url(self, *parts: str) -> str:
        return join(self._base, *parts)

    def _bad(self, what: str) -> BackendFailure:
        src = self._up.ctx.source
        return BackendFailure(
            f"{src}: SugarCRM {what} answer has an unexpected shape",
            sent=True, source=SourceInfo(src, 200, "malformed_body"),
        )

    async def _object(self, op: str, method: str, url: str, **kw: Any) -> dict[str, Any]:
        body = (await self._up.request(op, method, url, **kw)).json()
        if not isinstance(body, dict):
            raise self._bad(op)
        return body

    async def filter(self, module: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """``POST /<Module>/filter`` → (records, next_offset)."""
        answer = await self._object(
            "query", "POST", self._url(module, "filter"), json=body, safe=True
        )
        records, nxt = answer.get("records"), answer.get("next_offset")
        if not isinstance(records, list) or not isinstance(nxt, int):
            raise self._bad("filter")
        return [r for r in records if isinstance(r, dict)], nxt

    async def count(self, module: str, filter: list[dict[str, Any]]) -> int:
        """``GET /<Module>/count?filter=<json>``."""
        params = {"filter": orjson.dumps(filter).decode()} if filter else None
        answer = await self._object(
            "count", "GET", self._url(module, "count"), params=params, safe=True
        )
        n = answer.get("record_count")
        if not isinstance(n, int):
            raise self._bad("count")
        return n

    async def metadata(self, module: str | None) -> dict[str, Any]:
        """``GET /metadata?type_filter=modules[&module_filter=M]`` → ``{module: {fields}}``."""
        params = {"type_filter": "modules"}
        if module is not None:
            params["module_filter"] = module
        answer = await self._object(
            "metadata", "GET", self._url("metadata"), params=params, safe=True
        )
        modules = answer.get("modules")
        if not isinstance(modules, dict):
            raise self._bad("metadata")
        return modules

    async def get(self, module: str, record_id: str, fields: list[str] | None) -> dict[str, Any]:
        params = {"fields": ",".join(fields)} if fields else None
        return await self._object(
            "get", "GET", self._url(module, record_id), params=params, safe=True
        )

    async def create(self, module: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self._object("create", "POST", self._url(module), json=data, safe=False)

    async def update(
        self, module: str, record_id: str, data: dict[str, Any], version: str | None
    ) -> dict[str, Any]:
        headers = {"X-Timestamp": version} if version else None
        return await self._object(
            "update", "PUT", self._url(module, record_id), json=data, headers=headers, safe=False
        )

    async def delete(self, module: str, record_id: str) -> None:
        await self._up.request("delete", "DELETE", self._url(module, record_id), safe=False)

    async def bulk(self, requests: list[dict[str, Any]]) -> list[Any]:
        """``POST /bulk``: one answer item per request, in order. A write: never repeated once
        it may have been sent, whatever its items are."""
        answer = (await self._up.request(
            "bulk", "POST", self._url("bulk"), json={"requests": requests}, safe=False
        )).json()
        if not isinstance(answer, list) or len(answer) != len(requests):
            raise self._bad("bulk")
        return answer

    # -- files on record fields (FileApi) -------------------------------------------------------

    def download(
        self, module: str, record_id: str, field: str
    ) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        """``GET /<Module>/<id>/file/<field>``: the open answer; an empty field is a 404."""
        return self._up.stream(
            "file_get", "GET", self._url(module, record_id, "file", field), safe=True
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
        async with self._up.stream(
            "file_put", "PUT", self._url(module, record_id, "file", field), safe=False,
            params={"filename": filename}, body=chunks, headers=headers,
        ) as resp:
            body = (await self._up.read(resp)).json()
        if not isinstance(body, dict):
            raise self._bad("file upload")
        return body

    async def remove_file(self, module: str, record_id: str, field: str) -> None:
        """``DELETE /<Module>/<id>/file/<field>`` (Sugar answers 200 even when it was empty)."""
        await self._up.request(
            "file_delete", "DELETE", self._url(module, record_id, "file", field), safe=False
        )

    async def ping(self) -> None:
        await self._up.request("ping", "GET", self._url("ping"), safe=True)
