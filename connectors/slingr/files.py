"""Streamed Slingr file calls: multipart upload to ``/files`` and record-file downloads.

``Upstream.request`` reads whole bodies; files must pass through without being held, so these
two calls use the source's session directly with the same token cache, error table, transport
mapping and metrics. A download refused with 401 is re-signed once (a GET may be repeated); an
upload's body is a one-shot stream, so the caller proves the token first with a cheap read.
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp.payload import AsyncIterablePayload

from connectors.slingr.auth import auth_header
from gateway.connector import FileDownload, FileInfo
from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream, UpstreamResponse
from gateway.upstream.errors import map_errors

__all__ = ["CHUNK", "display_name", "download", "upload"]

CHUNK = 64 * 1024
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


def _count(up: Upstream, op: str, status: int | str, started: float) -> None:
    up.ctx.metrics.backend_call(up.ctx.source, op, status, time.perf_counter() - started)


async def _failure(up: Upstream, op: str, raw: aiohttp.ClientResponse) -> Exception:
    body = await raw.read()
    return up.classify(op, UpstreamResponse(raw.status, raw.headers, body))


@asynccontextmanager
async def download(
    up: Upstream, url: str, field_name: str | None
) -> AsyncIterator[FileDownload]:
    """Stream ``GET url``; the response stays open while the caller's block runs."""
    assert up.tokens is not None
    for attempt in range(2):
        token = await up.tokens.get()
        started = time.perf_counter()
        with map_errors(up.ctx.source):
            async with up.session.get(url, headers=auth_header(token.access)) as raw:
                _count(up, "file_get", raw.status, started)
                if raw.status == 401 and attempt == 0:
                    await up.tokens.invalidate(token)
                    continue
                if raw.status >= 300:
                    raise await _failure(up, "file_get", raw)
                # The record's field names the file exactly; Slingr's header carries the name
                # unencoded, so it is only a fallback.
                found = _DISPOSITION.search(raw.headers.get("Content-Disposition", ""))
                name = display_name(field_name) or (found[1] if found else None)
                info = FileInfo(
                    filename=name,
                    content_type=_content_type(raw.headers.get("Content-Type"), name),
                    size=raw.content_length,
                )
                yield FileDownload(info, _chunks(up, raw))
                return
    raise BackendFailure(  # pragma: no cover - the loop returns or raises
        f"{up.ctx.source}: Slingr kept refusing the renewed token", sent=True,
        source=SourceInfo(up.ctx.source, 401, "unauthorized"),
    )


async def _chunks(up: Upstream, raw: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    with map_errors(up.ctx.source):
        async for chunk in raw.content.iter_chunked(CHUNK):
            yield chunk


async def upload(
    up: Upstream, url: str, *, filename: str, content_type: str,
    chunks: AsyncIterable[bytes],
) -> dict[str, Any]:
    """``POST /files`` as multipart (part ``file``), streamed; the ``{fileId, fileLink}`` answer."""
    assert up.tokens is not None
    token = await up.tokens.get()
    form = aiohttp.MultipartWriter("form-data")
    part = form.append_payload(
        AsyncIterablePayload(_forward(chunks), content_type=content_type)
    )
    # Raw UTF-8 names as browsers send them; percent-encoding would be stored literally.
    part.set_content_disposition("form-data", quote_fields=False, name="file", filename=filename)
    started = time.perf_counter()
    with map_errors(up.ctx.source):
        async with up.session.post(url, data=form, headers=auth_header(token.access)) as raw:
            _count(up, "file_upload", raw.status, started)
            if raw.status == 401:
                # The stream is spent; no resend. Renew so the next call works.
                await up.tokens.invalidate(token)
            if raw.status >= 300:
                raise await _failure(up, "file_upload", raw)
            body = await raw.json(content_type=None)
    if not isinstance(body, dict) or not isinstance(body.get("fileId"), str):
        raise BackendFailure(
            f"{up.ctx.source}: Slingr upload answer has no fileId", sent=True,
            source=SourceInfo(up.ctx.source, 200, "malformed_body"),
        )
    return body


async def _forward(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
