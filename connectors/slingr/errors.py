"""One table: a Slingr status and error ``code`` → the gateway error it means (kit table).

Slingr error bodies are ``{"code", "message"}``; validation failures add
``errors: [{field, fieldLabel, code, message, additionalInfo}]``, which become ``details``.
Slingr's codes map one to one onto statuses, so the code only refines the message and the
SourceInfo: badRequest/validationErrors 400, unauthorized 401 (still refused after a fresh
login), forbidden 403, notFound 404, optimisticLocking 409, applicationUnavailable 503
(maintenance, suspended); 429 is not documented, a proxy in front may send it.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import BackendFailure, Detail, GatewayError
from gateway.kit.classify import (
    MAINTENANCE_RETRY_AFTER,
    Reading,
    Table,
    backend_detail,
    by_table,
)
from gateway.upstream.client import UpstreamResponse

__all__ = ["MAINTENANCE_RETRY_AFTER", "TABLE", "classify", "field_details"]


def field_details(body: Any) -> list[Detail]:
    """``errors[]`` of a validation answer as details (path = the Slingr field)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    out: list[Detail] = []
    for err in errors if isinstance(errors, list) else []:
        if not isinstance(err, dict):
            continue
        field = err.get("field") if isinstance(err.get("field"), str) else ""
        text = err.get("message") if isinstance(err.get("message"), str) else None
        code = err.get("code") if isinstance(err.get("code"), str) else None
        out.append(backend_detail(field or "", text or code or "invalid value"))
    return out


def _read(resp: UpstreamResponse, body: Any, op: str) -> Reading:
    code = body.get("code") if isinstance(body, dict) else None
    text = body.get("message") if isinstance(body, dict) else None
    return Reading(label=code if isinstance(code, str) else None,
                   text=text if isinstance(text, str) else None, details=field_details(body))


TABLE = Table(
    backend="Slingr", read=_read,
    # unauthorized, forbidden (IP rules, impersonation), notFound (impersonated user)
    token_refusals=(400, 401, 403, 404),
    statuses={(422, None): BackendFailure},  # Slingr never sends one: not the caller's doing
)


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Slingr answer to operation ``op``."""
    return by_table(TABLE, source, op, resp)
