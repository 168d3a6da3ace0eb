"""One table: a SugarCRM status and ``error`` label → the gateway error it means."""

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

__all__ = ["MAINTENANCE_RETRY_AFTER", "TOKEN_OPS", "classify"]

MAINTENANCE_RETRY_AFTER = 60.0

# Calls to the token endpoint: any refusal there means our configured credentials are refused.
TOKEN_OPS = frozenset({"login", "refresh"})

# (status, Sugar ``error`` label or None for "any label") -> gateway class; most specific first.
_TABLE: dict[tuple[int, str | None], type[GatewayError]] = {
    (401, None): BackendAuthFailed,  # still refused after a renewed token
    (403, None): Forbidden,  # not_authorized, field_locked, module_disabled, license_seats_needed
    (404, "no_method"): NotFound,  # unknown module (route)
    (404, None): NotFound,  # not_found: record or file
    (409, None): Conflict,  # edit_conflict (stale X-Timestamp)
    (413, None): PayloadTooLarge,  # request_too_large
    (422, None): InvalidRequest,  # invalid_parameter, missing_parameter
    (400, None): InvalidRequest,
    (429, None): RateLimited,  # throttling in front of Sugar, after our retries
    (503, None): BackendUnavailable,  # maintenance, service_unavailable, search_unavailable
}


def _lookup(status: int, label: str | None) -> type[GatewayError]:
    found = _TABLE.get((status, label)) or _TABLE.get((status, None))
    if found is not None:
        return found
    # 301 incorrect_version, 412 metadata_out_of_date, 424, 433, 5xx, anything unexpected:
    # the backend failed to do what it should have, not the caller's doing.
    return BackendFailure


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Sugar answer to operation ``op``."""
    body: Any = resp.json_or_none()
    label = body.get("error") if isinstance(body, dict) else None
    text = body.get("error_message") if isinstance(body, dict) else None
    label = label if isinstance(label, str) else None
    text = text if isinstance(text, str) else None
    info = SourceInfo(source, resp.status, label)
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))

    if op in TOKEN_OPS and resp.status in (400, 401, 403, 422):
        # invalid_grant, invalid_client, unauthorized_client, need_login, bad platform
        return BackendAuthFailed(
            f"{source}: SugarCRM refused the gateway's credentials ({label or resp.status})",
            source=info, sent=True,
        )
    if resp.status >= 500 and resp.status != 503:
        return BackendFailure(
            f"{source}: SugarCRM failed with HTTP {resp.status}", source=info, sent=True
        )
    cls = _lookup(resp.status, label)
    msg = f"{source}: {text or label or f'HTTP {resp.status}'}"
    if cls is BackendUnavailable:
        # The envelope promises Retry-After on 503; Sugar's maintenance answer carries none.
        wait = retry_after if retry_after is not None else MAINTENANCE_RETRY_AFTER
        return BackendUnavailable(msg, source=info, sent=True, retry_after=wait)
    if issubclass(cls, BackendFailure):
        return cls(msg, source=info, sent=True)
    if cls is InvalidRequest:
        path = "data" if op in ("create", "update") else ""
        details = [Detail(path=path, msg=text or label or "rejected by SugarCRM")]
        return InvalidRequest(msg, details=details, source=info)
    if cls is RateLimited:
        return RateLimited(msg, source=info, retry_after=retry_after)
    return cls(msg, source=info)
