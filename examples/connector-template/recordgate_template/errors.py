"""One table: the template backend's error status → the gateway error it means."""

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
    RateLimited,
    SourceInfo,
)
from gateway.upstream.client import UpstreamResponse
from gateway.upstream.retry import parse_retry_after

__all__ = ["classify"]

MAINTENANCE_RETRY_AFTER = 60.0  # when a 503 names no Retry-After

_TABLE: dict[int, type[GatewayError]] = {
    400: InvalidRequest,
    401: BackendAuthFailed,  # still refused after a fresh login
    403: Forbidden,
    404: NotFound,
    409: Conflict,  # stale_version
    422: InvalidRequest,  # invalid record; the body names the field
    429: RateLimited,
    503: BackendUnavailable,
}


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx answer to operation ``op``."""
    body: Any = resp.json_or_none()
    code = body.get("error") if isinstance(body, dict) else None
    text = body.get("message") if isinstance(body, dict) else None
    info = SourceInfo(source, resp.status, code if isinstance(code, str) else None)
    msg = f"{source}: {text if isinstance(text, str) else f'HTTP {resp.status}'}"
    if op == "login" and resp.status in (400, 401, 403):
        return BackendAuthFailed(f"{source}: the backend refused the gateway's credentials",
                                 source=info, sent=True)
    cls = _TABLE.get(resp.status, BackendFailure)
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    if cls is BackendUnavailable:
        return BackendUnavailable(msg, source=info, sent=True,
                                  retry_after=retry_after or MAINTENANCE_RETRY_AFTER)
    if cls is RateLimited:
        return RateLimited(msg, source=info, retry_after=retry_after)
    if cls is InvalidRequest:
        field = body.get("field") if isinstance(body, dict) else None
        return InvalidRequest(msg, source=info, details=[
            Detail(path=field if isinstance(field, str) else "", msg=str(text or code))])
    if issubclass(cls, BackendFailure):
        return cls(msg, source=info, sent=True)
    return cls(msg, source=info)
