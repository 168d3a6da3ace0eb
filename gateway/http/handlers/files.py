"""Files on record fields (spec §5): streamed GET, PUT and DELETE through the org's connector.

Neither direction holds a file whole. An upload is handed to the connector as an async iterable
of the caller's chunks (raw body, or the ``file`` part of a multipart body), counted against
``server.maxBodyBytes`` as it flows; a download is copied chunk by chunk from the backend's open
answer. Errors found before the first byte of a download is sent are normal error envelopes;
once the answer has started, a failure can only cut the connection short (the caller sees a
body shorter than its Content-Length, or a chunked body without its end), and is logged.

A file written or removed changes its record's answers (a file field holds the file's name),
so once the connector call has ended, whatever its outcome, the source's read cache is dropped.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal
from urllib.parse import quote, unquote

import aiohttp
import structlog
from aiohttp import BodyPartReader, hdrs, web
from aiohttp.multipart import parse_content_disposition
from pydantic import BaseModel, ConfigDict

from gateway.addresses import check_id
from gateway.connector import FileStore, file_store
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    NotFound,
    Unsupported,
)
from gateway.http.envelope import ok
from gateway.http.keys import CONFIG, METRICS, RECORDS, SOURCES, state
from gateway.http.middleware.limits import too_large
from gateway.i18n import Message
from gateway.records.commands import bad_input
from gateway.sources import Source

__all__ = [
    "FileDeletedEnvelope",
    "FileEnvelope",
    "Upload",
    "content_disposition",
    "delete_file",
    "get_file",
    "put_file",
]

log = structlog.get_logger("gateway.files")

CHUNK = 64 * 1024
OCTET_STREAM = "application/octet-stream"
MAX_FILENAME = 255
# How long an upload may go without a byte from the caller before we give up on it (it holds a
# backend connection and a bulkhead slot meanwhile); server.uploadIdleTimeout, default 10.
UPLOAD_IDLE_SECONDS = 10.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# RFC 5987 attr-char: what may stand unescaped in filename*.
_ATTR_CHARS = "!#$&+-.^_`|~"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileModel(_Closed):
    field: str
    filename: str
    contentType: str
    size: int | None


class FileEnvelope(_Closed):
    data: FileModel
    code: Literal[0] = 0
    msg: str = "OK"


class FileDeleted(_Closed):
    id: str
    field: str


class FileDeletedEnvelope(_Closed):
    data: FileDeleted
    code: Literal[0] = 0
    msg: str = "OK"


def content_disposition(filename: str) -> str:
    """RFC 6266 ``attachment``: a plain ASCII ``filename`` for old clients and, when the name
    is not plain ASCII, the exact name as RFC 5987 ``filename*`` (which clients prefer).

    aiohttp's ``content_disposition_header`` is the MIME (multipart) flavour and would
    percent-encode the plain ``filename`` too, so it is not used here.
    """
    # Whatever a backend stored, the caller gets a bare name (RFC 6266 §4.3). The plain form is
    # lossy: CR, LF, other controls, quotes and backslashes become "_" (no escapes, which some
    # parsers split wrongly), so no stored name can end the header or add another; the exact
    # name is in filename*, percent-encoded.
    filename = re.split(r"[/\\]", filename)[-1] or "file"
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe=_ATTR_CHARS, encoding="utf-8")
    return value


def _params(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in request.query:
        if key in ("orgId", "locale"):
            continue
        if key not in allowed:
            raise bad_input(key, "unknown_key", key=key)
        values = request.query.getall(key)
        if len(values) > 1:
            raise bad_input(key, "duplicate_param", name=key)
        out[key] = values[0]
    return out


def _check_filename(name: str) -> str:
    """The name to store: the caller's last path segment (``../../etc/passwd`` → ``passwd``,
    ``C:\\x\\y.txt`` → ``y.txt``), since a backend or whoever downloads the file later may
    take a directory in it as one. A name with control characters, or with no file name left
    (``dir/``, ``..``), is refused rather than guessed."""
    base = re.split(r"[/\\]", name)[-1]
    if (not base.strip() or base in (".", "..") or len(base) > MAX_FILENAME
            or _CONTROL.search(name)):
        raise bad_input("filename", "bad_filename")
    return base


async def _target(request: web.Request) -> tuple[Source, FileStore, str, str, str]:
    """Source, connector (its files role), entity, record id and field, with the field proven
    a file field; 422 for a source without files (the role or the capability)."""
    source = request.app[SOURCES].get(request.match_info["source"])
    conn = source.connector(state(request).org, state(request).consumer)
    if not conn.capabilities.files:
        raise Unsupported("files_unsupported", {"source": source.name})
    store = file_store(conn, source.name)
    record_id = check_id(conn, source.name, request.match_info["id"],
                         metrics=request.app[METRICS])
    with source.observe():
        info = await conn.describe(request.match_info["entity"])
    name = request.match_info["field"]
    found = info.field(name)
    if found is None:
        raise NotFound("field_not_found",
                       {"source": source.name, "entity": info.name, "field": name})
    if found.type != "file":
        raise bad_input("field", "not_a_file_field", field=name, entity=info.name)
    return source, store, info.name, record_id, name


class _ConsumerSide(Exception):
    """An upload failed on the consumer's side; carried out of ``Source.observe()`` so that
    the source's health does not take the consumer's failure for the backend's answer."""


class Upload:
    """The caller's file as an async iterable of chunks, counted against the body limit.

    The connector only sees a failure of ours as a broken send to its backend, so the real
    cause (too large, cut off, stalled) is kept in ``failure`` for the handler to answer with.
    """

    def __init__(self, read: Callable[[], Awaitable[bytes]], limit: int, *,
                 complete: Callable[[], bool] = lambda: True,
                 idle: float = UPLOAD_IDLE_SECONDS) -> None:
        self._read = read
        self._complete = complete  # at the end of data: did the body end properly?
        self._limit = limit
        self._idle = idle
        self.received = 0
        self.failure: GatewayError | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    def _fail(self, err: GatewayError) -> GatewayError:
        self.failure = err
        return err

    @staticmethod
    def _interrupted() -> InvalidRequest:
        return bad_input("body", "upload_interrupted")

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async with asyncio.timeout(self._idle):
                    chunk = await self._read()
            except TimeoutError:
                raise self._fail(bad_input(
                    "body", "upload_stalled", seconds=f"{self._idle:g}")) from None
            except Exception as exc:  # only the read is inside
                # The caller went away or sent a broken body (short of its Content-Length,
                # bad chunked framing, malformed multipart): aiohttp says so in many ways.
                log.info("upload_interrupted", error=repr(exc))
                raise self._fail(self._interrupted()) from None
            if not chunk:
                if not self._complete():
                    raise self._fail(self._interrupted())
                return
            self.received += len(chunk)
            if self.received > self._limit:
                raise self._fail(too_large(self._limit))
            yield chunk


def _part_filename(part: BodyPartReader) -> str | None:
    """The file name a multipart part carries. RFC 5987 ``filename*`` is taken as aiohttp
    decodes it; a plain ``filename`` is percent-decoded when it decodes as UTF-8, since
    browsers percent-encode ``"`` and line breaks (WHATWG) and aiohttp's own client
    percent-encodes every non-ASCII character."""
    _, params = parse_content_disposition(part.headers.get(hdrs.CONTENT_DISPOSITION))
    if "filename*" in params or "filename" not in params:
        return part.filename
    raw = params["filename"]
    if "%" not in raw:
        return raw
    try:
        return unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return raw


async def _file_part(request: web.Request, limit: int) -> BodyPartReader:
    """The multipart body's part named ``file``; parts before it are read and dropped."""
    try:
        reader = await request.multipart()
        skipped = 0
        while True:
            part = await reader.next()
            if part is None:
                raise bad_input("file", "missing_file_part")
            if not isinstance(part, BodyPartReader):
                raise bad_input("body", "bad_multipart", error=Message("nested_multipart"))
            if part.name == "file":
                return part
            while chunk := await part.read_chunk(CHUNK):
                skipped += len(chunk)
                if skipped > limit:
                    raise too_large(limit)
    except (ValueError, AssertionError, aiohttp.ClientError) as exc:
        # aiohttp's reader says "malformed" with these (bad boundary, missing headers).
        raise bad_input("body", "bad_multipart", error=str(exc)[:200]) from None


async def put_file(request: web.Request) -> web.Response:
    """Store the body (raw, or multipart part ``file``) on the field, streaming it through."""
    params = _params(request, frozenset({"filename"}))
    limit = request.app[CONFIG].server.maxBodyBytes
    idle = request.app[CONFIG].server.uploadIdleTimeout
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    source, conn, entity, record_id, field = await _target(request)
    size: int | None = None
    if request.content_type == "multipart/form-data":
        part = await _file_part(request, limit)
        filename = _part_filename(part) or params.get("filename") or field
        content_type = part.headers.get(hdrs.CONTENT_TYPE) or OCTET_STREAM
        # A part whose closing boundary never came is a cut-off upload, not a shorter file.
        upload = Upload(lambda: part.read_chunk(CHUNK), limit, complete=part.at_eof,
                        idle=idle)
    else:
        filename = params.get("filename") or field
        content_type = request.headers.get(hdrs.CONTENT_TYPE) or OCTET_STREAM
        upload = Upload(lambda: request.content.read(CHUNK), limit, idle=idle)
        # A compressed body is inflated by aiohttp as it is read: its length is not the file's.
        if hdrs.CONTENT_ENCODING not in request.headers:
            size = declared
    filename = _check_filename(filename)
    try:
        with source.observe():
            try:
                info = await conn.put_file(
                    entity, record_id, field, filename=filename, content_type=content_type,
                    chunks=upload, size=size,
                )
            except GatewayError:
                if upload.failure is not None:
                    raise _ConsumerSide from None
                raise
            finally:  # failed too: the backend may have stored (part of) it
                await request.app[RECORDS].cache.invalidate(source.name)
    except _ConsumerSide:
        # Our side broke the send (too large, cut off, stalled): say that, not "backend
        # failed", and leave the source's health as it was (observe() learns nothing from
        # an exception that is not a GatewayError).
        assert upload.failure is not None
        raise upload.failure from None
    if upload.failure is not None:
        raise upload.failure
    return ok({
        "field": field,
        "filename": info.filename or filename,
        "contentType": info.content_type,
        "size": info.size if info.size is not None else upload.received,
    })


async def get_file(request: web.Request) -> web.StreamResponse:
    """Copy the stored file to the caller as it arrives from the backend."""
    _params(request, frozenset())
    source, conn, entity, record_id, field = await _target(request)
    resp: web.StreamResponse | None = None
    try:
        with source.observe():
            async with conn.open_file(entity, record_id, field) as download:
                info = download.info
                resp = web.StreamResponse(headers={
                    hdrs.CONTENT_TYPE: info.content_type or OCTET_STREAM,
                    hdrs.CONTENT_DISPOSITION: content_disposition(info.filename or field),
                    # The type is the backend's word; a browser must not guess another.
                    "X-Content-Type-Options": "nosniff",
                })
                if info.size is not None:
                    resp.content_length = info.size
                await resp.prepare(request)
                async for chunk in download.chunks:
                    await resp.write(chunk)
                await resp.write_eof()
    except Exception as exc:
        if resp is None or not resp.prepared:
            raise  # nothing sent yet: the errors middleware answers with the envelope
        _abort(request, exc)
        return resp
    return resp


def _abort(request: web.Request, exc: Exception) -> None:
    """The status line is out: the only honest signal left is closing the connection before
    the body is complete, so the caller cannot take a partial file for the whole one."""
    client_gone = isinstance(exc, ConnectionError)
    (log.info if client_gone else log.warning)(
        "file_stream_aborted", reason="client_gone" if client_gone else "backend",
        error=exc.error if isinstance(exc, GatewayError) else type(exc).__name__,
        exc_info=not isinstance(exc, GatewayError | ConnectionError),
    )
    state(request).extra["error"] = "stream_aborted"
    if request.transport is not None:
        request.transport.close()


async def delete_file(request: web.Request) -> web.Response:
    _params(request, frozenset())
    source, conn, entity, record_id, field = await _target(request)
    try:
        with source.observe():
            await conn.delete_file(entity, record_id, field)
    finally:
        await request.app[RECORDS].cache.invalidate(source.name)
    return ok({"id": record_id, "field": field})
