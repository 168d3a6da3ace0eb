"""Multipart upload bodies as a stream of bytes, for ``Upstream.stream``'s one-shot ``body``.

``aiohttp.MultipartWriter`` is a payload aiohttp writes itself, so ``Upstream.stream`` could
not tell whether it started flowing (and so whether a resend would send a spent stream). This
frames one file part around the caller's chunks as a plain async iterable instead, in the
same wire form MultipartWriter gives (RFC 7578), so the stream's send-once guard covers it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator

from aiohttp.helpers import content_disposition_header

__all__ = ["file_form"]


def file_form(
    chunks: AsyncIterable[bytes], *, filename: str, content_type: str, name: str = "file"
) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """(headers, body) of a ``multipart/form-data`` request with one file part ``name``.

    The file name travels as a quoted-string of raw UTF-8 (``"`` and ``\\`` escaped), as
    browsers send it: percent-encoding would be stored literally by backends that keep it.
    Callers must have refused control characters in ``filename`` and ``content_type``.
    """
    boundary = uuid.uuid4().hex
    disposition = content_disposition_header(
        "form-data", quote_fields=False, name=name, filename=filename
    )
    head = (
        f"--{boundary}\r\nContent-Type: {content_type}\r\n"
        f"Content-Disposition: {disposition}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return headers, _framed(head, chunks, tail)


async def _framed(head: bytes, chunks: AsyncIterable[bytes], tail: bytes) -> AsyncIterator[bytes]:
    yield head
    async for chunk in chunks:
        if chunk:  # an empty chunk would read as the end of a chunked body
            yield chunk
    yield tail
