"""One table: the template backend's error answers → the gateway errors they mean.

The kit (``gateway.kit.classify``) does the rest: a refused login is ``backend_auth_failed``, a
5xx other than 503 is the backend failing, 503 carries a Retry-After, 400/422 carry details.
The template's answers are ``{"error": <id>, "message": <text>, "field": <name>?}``.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import Detail
from gateway.kit.classify import Reading, Table, backend_detail
from gateway.upstream.client import UpstreamResponse

__all__ = ["TABLE"]


def _read(resp: UpstreamResponse, body: Any, op: str) -> Reading:
    """What one error answer says: its id, its text and the field it names."""
    fields = body if isinstance(body, dict) else {}
    code, text, field = fields.get("error"), fields.get("message"), fields.get("field")
    code = code if isinstance(code, str) else None
    text = text if isinstance(text, str) else None
    path = field if isinstance(field, str) else ""
    said = text or code
    detail = (backend_detail(path, said) if said
              else Detail(path, "rejected_by_backend", {"backend": "the template backend"}))
    return Reading(label=code, text=text, details=[detail])


# The shared statuses (400, 401, 403, 404, 409 stale_version, 413, 422, 429, 503) mean here
# what they mean everywhere, so the table adds no rule of its own.
TABLE = Table(backend="Template backend", read=_read)
