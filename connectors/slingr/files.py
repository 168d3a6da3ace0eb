"""Streamed Slingr file calls: multipart upload to ``/files`` and record-file downloads.

Both go through ``Upstream.stream`` (breaker, bulkhead, deadline, metrics, per-call logging)
so files pass through without being held. A download refused with 401 is re-signed once (a GET
may be repeated); an upload's body is a one-shot stream, never sent twice, so the caller proves
the token first with a cheap read.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gateway.connector import FileDownload, FileInfo
from gateway.kit.base import malformed
from gateway.upstream.client import Upstream
from gateway.upstream.multipart import file_form

__all__ = ["display_name", "download", "upload"]

# Slingr shows a file field's name with its size: "logo.png (41.5kB)".
_SIZE_SUFFIX = re.compile(r"\s*\(\d+(\.\d+)?\s*[kMGT]?B\)$")
_DISPOSITION = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.I)


def display_name(name: str | None) -> str | None:
    return _SIZE_SUFFIX.sub("", name) if name else name


def _content_type(header: str | None, filename: str | None) -> str:
    # Slingr answers application/force-download whatever the file is; the name says more.
    if header and not header.startswith("application/force-download"):
        return header.split(";")[0].strip()
    guessed = mimetypes.guess_type(filename or "")[0]
    return guessed or "application/octet-stream"


@asynccontextmanager
async def download(
    up: Upstream, url: str, field_name: str | None
) -> AsyncIterator[FileDownload]:
    """Stream ``GET url``; the response stays open while the caller's block runs."""
    async with up.stream("file_get", "GET", url, safe=True) as raw:
        # The record's field names the file exactly; Slingr's header carries the name
        # unencoded, so it is only a fallback.
        found = _DISPOSITION.search(raw.headers.get("Content-Disposition", ""))
        name = display_name(field_name) or (found[1] if found else None)
        info = FileInfo(
            filename=name,
            content_type=_content_type(raw.headers.get("Content-Type"), name),
            size=raw.content_length,
        )
        yield FileDownload(info, up.chunks(raw))


async def upload(
    up: Upstream, url: str, *, filename: str, content_type: str,
    chunks: AsyncIterable[bytes],
) -> dict[str, Any]:
    """``POST /files`` as multipart (part ``file``), streamed; the ``{fileId, fileLink}`` answer."""
    headers, body = file_form(chunks, filename=filename, content_type=content_type)
    async with up.stream(
        "file_upload", "POST", url, safe=False, body=body, headers=headers
    ) as raw:
        answer = (await up.read(raw)).json()
    if not isinstance(answer, dict) or not isinstance(answer.get("fileId"), str):
        raise malformed(up.ctx.source, "Slingr", "upload")
    return answer
