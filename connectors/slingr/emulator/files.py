"""File bytes on the wire: multipart/form-data uploads in, force-download answers out."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import quote

from aiohttp import web

from connectors.slingr.emulator.query import bad

__all__ = ["Download", "content_disposition", "multipart"]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token characters


@dataclass
class Download:
    name: str
    data: bytes

    def response(self) -> web.Response:
        return web.Response(status=200, body=self.data, headers={
            "Content-Type": "application/force-download",
            "Content-Disposition": content_disposition(self.name)})


def content_disposition(name: str) -> str:
    """`attachment; filename=...` as the docs show it; RFC 6266 `filename*` for other names.

    A plain token name goes bare (`filename=file.ext`, byte for byte the docs' header); other
    ASCII names are quoted; a non-ASCII name gets an ASCII fallback plus `filename*=UTF-8''`,
    which is what clients (and aiohttp's `content_disposition_filename`) prefer."""
    if _TOKEN.fullmatch(name):
        return f"attachment; filename={name}"
    ascii_name = (unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
                  if not name.isascii() else name)
    fallback = re.sub(r'[\x00-\x1f\x7f"\\]', "_", ascii_name).strip() or "file"
    header = f'attachment; filename="{fallback}"'
    if not name.isascii():
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def multipart(raw: bytes, content_type: str) -> list[tuple[str | None, str | None, str, bytes]]:
    """(part name, filename, content type, bytes) of each multipart/form-data part."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise bad("Expected a multipart/form-data body")
    parts: list[tuple[str | None, str | None, str, bytes]] = []
    for part in message.iter_parts():
        data = part.get_payload(decode=True)
        name = part.get_param("name", header="content-disposition")
        parts.append((name if isinstance(name, str) else None,
                      part.get_filename(), part.get_content_type(),
                      data if isinstance(data, bytes) else b""))
    return parts


def uploaded_file(raw: bytes, content_type: str) -> tuple[str | None, str, bytes]:
    """(filename, content type, bytes) of the part named `file`, else the first file part."""
    if not content_type.startswith("multipart/form-data"):
        raise bad("Files must be uploaded as multipart/form-data")
    parts = [p for p in multipart(raw, content_type) if p[1]]
    if not parts:
        raise bad("No file found in the multipart body")
    _, filename, ctype, data = next((p for p in parts if p[0] == "file"), parts[0])
    return filename, ctype, data
