"""Files on record fields: ``Attachment/<Entity>/<id>/<field>`` download, upload, delete, streamed.

Upstream reads whole bodies, so the two streaming calls sign, send, classify and count their
attempt here with the same pieces (token cache, ``map_errors``, the error table, metrics).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import unquote

import aiohttp
from aiohttp.payload import AsyncIterablePayload
from multidict import CIMultiDict

from connectors.dataservice.auth import auth_header
from connectors.dataservice.client import DataServiceClient
from gateway.connector import FileDownload, FileInfo
from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Classifier, Upstream, UpstreamResponse
from gateway.upstream.context import record_call
from gateway.upstream.errors import map_errors
from gateway.upstream.tokens import Token

__all__ = ["DataServiceFiles"]

_CHUNK = 64 * 1024
_EXTENDED = re.compile(r"""filename\*=(?:UTF-8|utf-8)''([^;]+)""")
_PLAIN = re.compile(r"""filename="?([^";]+)"?""", re.IGNORECASE)


def _filename(disposition: str | None) -> str | None:
    """RFC 6266: the UTF-8 ``filename*`` form (percent-encoded) wins over ``filename``."""
    extended = _EXTENDED.search(disposition or "")
    if extended:
        return unquote(extended.group(1).strip())
    plain = _PLAIN.search(disposition or "")
    return plain.group(1) if plain else None


class DataServiceFiles:
    """One source's file calls; ``classify`` is the connector's error table."""

    def __init__(self, upstream: Upstream, client: DataServiceClient, classify: Classifier
                 ) -> None:
        self._up = upstream
        self._client = client
        self._classify = classify

    def _url(self, entity: str, record_id: str, field: str) -> str:
        return self._client.url("Attachment", entity, record_id, field)

    def _timeout(self) -> aiohttp.ClientTimeout:
        # A large file may take longer than one call's timeout; a stalled one may not.
        timeout = self._up.ctx.timeout
        return aiohttp.ClientTimeout(total=None, sock_connect=min(timeout, 10), sock_read=timeout)

    async def _headers(self) -> tuple[CIMultiDict[str], Token]:
        headers = CIMultiDict(self._client.headers or {})
        assert self._up.tokens is not None
        token = await self._up.tokens.get()
        headers.update(auth_header(token.access))
        return headers, token

    def _count(self, op: str, status: int | str, started: float) -> None:
        seconds = time.perf_counter() - started
        self._up.ctx.metrics.backend_call(self._up.ctx.source, op, status, seconds)
        record_call(seconds)

    async def _fail(self, op: str, raw: aiohttp.ClientResponse) -> Exception:
        body = await raw.read()
        return self._classify(op, UpstreamResponse(raw.status, raw.headers, body))

    @asynccontextmanager
    async def open(self, entity: str, record_id: str, field: str
                   ) -> AsyncIterator[FileDownload]:
        """Stream the stored file; a 401 renews the token and asks once more (a read)."""
        url = self._url(entity, record_id, field)
        assert self._up.tokens is not None
        for attempt in range(2):
            headers, token = await self._headers()
            started = time.perf_counter()
            with map_errors(self._up.ctx.source):
                raw = await self._up.session.get(url, headers=headers, timeout=self._timeout())
            self._count("file_get", raw.status, started)
            try:
                if raw.status == 401 and attempt == 0:
                    await self._up.tokens.invalidate(token)
                    continue
                if not raw.ok:
                    raise await self._fail("file_get", raw)
                size = raw.content_length
                info = FileInfo(
                    filename=_filename(raw.headers.get("Content-Disposition")),
                    content_type=raw.content_type or "application/octet-stream",
                    size=size,
                )
                yield FileDownload(info, self._chunks(raw))
                return
            finally:
                raw.release()
        raise BackendFailure(f"{self._up.ctx.source}: Data Service kept refusing the token",
                             sent=True, source=SourceInfo(self._up.ctx.source, 401, None))

    async def _chunks(self, raw: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        with map_errors(self._up.ctx.source):
            async for chunk in raw.content.iter_chunked(_CHUNK):
                yield chunk

    async def put(self, entity: str, record_id: str, field: str, *, filename: str,
                  content_type: str, chunks: AsyncIterable[bytes], size: int | None) -> FileInfo:
        """Upload as multipart part ``file``, streaming ``chunks`` (never held whole)."""
        writer = aiohttp.MultipartWriter("form-data")
        part = writer.append_payload(AsyncIterablePayload(chunks, content_type=content_type))
        # RFC 7578 §4.2: the name as quoted-string (raw UTF-8, ``"`` and ``\\`` escaped), as
        # browsers send it; aiohttp's own quoting would percent-encode it into the stored name.
        escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
        part.headers["Content-Disposition"] = f'form-data; name="file"; filename="{escaped}"'
        headers, token = await self._headers()
        started = time.perf_counter()
        status: int | str = "error"
        try:
            with map_errors(self._up.ctx.source):
                async with self._up.session.post(
                    self._url(entity, record_id, field), data=writer, headers=headers,
                    timeout=self._timeout(),
                ) as raw:
                    status = raw.status
                    if raw.status == 401:
                        # The body is spent and cannot be sent again: renew for the next call
                        # and tell the caller the file was not stored.
                        assert self._up.tokens is not None
                        await self._up.tokens.invalidate(token)
                        raise BackendFailure(
                            f"{self._up.ctx.source}: Data Service refused the token during the "
                            "upload; the file was not stored, send it again",
                            sent=True, source=SourceInfo(self._up.ctx.source, 401, None),
                        )
                    if not raw.ok:
                        raise await self._fail("file_put", raw)
                    await raw.read()
        finally:
            self._count("file_put", status, started)
        return FileInfo(filename=filename, content_type=content_type, size=size)

    async def delete(self, entity: str, record_id: str, field: str) -> None:
        await self._up.request("file_delete", "DELETE", self._url(entity, record_id, field),
                               safe=False, headers=self._client.headers, expect_json=False)
