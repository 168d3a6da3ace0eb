"""Files on record fields: ``Attachment/<Entity>/<id>/<field>`` download, upload, delete, streamed.

Every call goes through the source's Upstream (breaker, bulkhead, deadline, token renewal,
metrics, per-call logging); transfers use ``Upstream.stream`` so no file is held whole.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import unquote

from connectors.dataservice.client import DataServiceClient
from gateway.connector import FileDownload, FileInfo
from gateway.upstream.client import Upstream
from gateway.upstream.multipart import file_form

__all__ = ["DataServiceFiles"]

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
    """One source's file calls on the connector's Upstream (its error table classifies)."""

    def __init__(self, upstream: Upstream, client: DataServiceClient) -> None:
        self._up = upstream
        self._client = client

    def _url(self, entity: str, record_id: str, field: str) -> str:
        return self._client.url("Attachment", entity, record_id, field)

    @asynccontextmanager
    async def open(self, entity: str, record_id: str, field: str
                   ) -> AsyncIterator[FileDownload]:
        """Stream the stored file; the answer stays open while the caller's block runs."""
        async with self._up.stream(
            "file_get", "GET", self._url(entity, record_id, field), safe=True,
            headers=self._client.headers,
        ) as raw:
            info = FileInfo(
                filename=_filename(raw.headers.get("Content-Disposition")),
                content_type=raw.content_type or "application/octet-stream",
                size=raw.content_length,
            )
            yield FileDownload(info, self._up.chunks(raw))

    async def put(self, entity: str, record_id: str, field: str, *, filename: str,
                  content_type: str, chunks: AsyncIterable[bytes], size: int | None) -> FileInfo:
        """Upload as multipart part ``file``, streaming ``chunks`` (never held whole, never
        sent twice: a token refused mid-upload is renewed and the caller told to resend)."""
        form_headers, body = file_form(chunks, filename=filename, content_type=content_type)
        headers = {**(self._client.headers or {}), **form_headers}
        async with self._up.stream(
            "file_put", "POST", self._url(entity, record_id, field), safe=False,
            body=body, headers=headers,
        ) as raw:
            await self._up.read(raw, expect_json=False)
        return FileInfo(filename=filename, content_type=content_type, size=size)

    async def delete(self, entity: str, record_id: str, field: str) -> None:
        await self._up.request("file_delete", "DELETE", self._url(entity, record_id, field),
                               safe=False, headers=self._client.headers, expect_json=False)
