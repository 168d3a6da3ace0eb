"""One table: a Slingr status and error ``code`` → the gateway error it means.

Slingr error bodies are ``{"code", "message"}``; validation failures add
``errors: [{field, fieldLabel, code, message, additionalInfo}]``, which become ``details``.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import (
    BackendAuthFailed,
    BackendFailure,
    BackendUnavailable,
    Conflict,
    Detail,
    Forbidden,
    GatewayError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    SourceInfo,
)
from gateway.upstream.client import UpstreamResponse
from gateway.upstream.retry import parse_retry_after

__all__ = ["MAINTENANCE_RETRY_AFTER", "classify", "field_details"]

MAINTENANCE_RETRY_AFTER = 60.0

# status -> gateway class; Slingr's codes map one to one onto statuses, so the code only refines
# the message and the SourceInfo.
_TABLE: dict[int, type[GatewayError]] = {
    400: InvalidRequest,  # badRequest, validationErrors
    401: BackendAuthFailed,  # unauthorized, still refused after a fresh login
    403: Forbidden,  # forbidden (entity, field or record)
    404: NotFound,  # notFound (entity, record, file, job)
    409: Conflict,  # optimisticLocking
    413: PayloadTooLarge,
    429: RateLimited,  # not documented for Slingr; a proxy in front may send it
    503: BackendUnavailable,  # applicationUnavailable (maintenance, suspended)
}


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
        out.append(Detail(path=field or "", msg=text or code or "invalid value"))
    return out


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Slingr answer to operation ``op``."""
    body: Any = resp.json_or_none()
    code = body.get("code") if isinstance(body, dict) else None
    text = body.get("message") if isinstance(body, dict) else None
    code = code if isinstance(code, str) else None
    text = text if isinstance(text, str) else None
    info = SourceInfo(source, resp.status, code)
    msg = f"{source}: {text or code or f'HTTP {resp.status}'}"

    if op == "login" and resp.status in (400, 401, 403, 404):
        # unauthorized, forbidden (IP rules, impersonation), notFound (impersonated user)
        return BackendAuthFailed(
            f"{source}: Slingr refused the gateway's credentials ({code or resp.status})",
            source=info, sent=True,
        )
    if resp.status >= 500 and resp.status != 503:
        return BackendFailure(
            f"{source}: Slingr failed with HTTP {resp.status}", source=info, sent=True
        )
    cls = _TABLE.get(resp.status, BackendFailure)
    if cls is BackendUnavailable:
        wait = parse_retry_after(resp.headers.get("Retry-After"))
        return BackendUnavailable(
            msg, source=info, sent=True,
            retry_after=wait if wait is not None else MAINTENANCE_RETRY_AFTER,
        )
    if cls is RateLimited:
        return RateLimited(
            msg, source=info, retry_after=parse_retry_after(resp.headers.get("Retry-After"))
        )
    if issubclass(cls, BackendFailure):
        return cls(msg, source=info, sent=True)
    if cls is InvalidRequest:
        details = field_details(body) or [Detail(path="", msg=text or code or "rejected by Slingr")]
        return InvalidRequest(msg, details=details, source=info)
    return cls(msg, source=info)
