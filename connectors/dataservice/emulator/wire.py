"""Request bodies as ASP.NET binds them: JSON with media-type checks, multipart file parts."""

from __future__ import annotations

import email.parser
import email.policy
from typing import Any

import orjson

from connectors.dataservice.emulator.errors import DsError, problem, trace_id
from connectors.dataservice.emulator.store import FileData

__all__ = ["json_body", "multipart_file"]


def _unsupported_media() -> DsError:
    err = DsError(415, "Unsupported Media Type")
    err.raw = {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.13",
               "title": "Unsupported Media Type", "status": 415, "traceId": trace_id()}
    return err


def json_body(raw: bytes, content_type: str) -> Any:
    """A [FromBody] JSON parameter: needs application/json and a non-empty, valid body."""
    if not raw.strip():
        raise problem({"": ["A non-empty request body is required."]})
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise _unsupported_media()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise problem({"$": [f"The request body is not valid JSON: {exc.msg}."]}) from None


def multipart_file(raw: bytes, content_type: str, part_name: str = "file") -> FileData | None:
    """The named file part of a multipart/form-data body; None when absent."""
    if not content_type.startswith("multipart/form-data"):
        raise _unsupported_media()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != part_name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        return FileData(part.get_filename() or part_name, part.get_content_type(), data)
    return None
