"""One table: a SugarCRM status and ``error`` label → the gateway error it means (kit table).

401 is still refused after a renewed token; 403 not_authorized, field_locked, module_disabled,
license_seats_needed; 404 no_method (unknown module) or not_found (record or file); 409
edit_conflict (stale X-Timestamp); 413 request_too_large; 400/422 invalid_parameter,
missing_parameter; 429 throttling in front of Sugar; 503 maintenance, service_unavailable.
301 incorrect_version, 412 metadata_out_of_date, 424, 433, 5xx and anything unexpected: the
backend failed to do what it should have, not the caller's doing.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import Detail, GatewayError
from gateway.kit.classify import (
    MAINTENANCE_RETRY_AFTER,
    Reading,
    Table,
    backend_detail,
    by_table,
)
from gateway.upstream.client import UpstreamResponse

__all__ = ["MAINTENANCE_RETRY_AFTER", "TABLE", "TOKEN_OPS", "classify"]

# Calls to the token endpoint: any refusal there means our configured credentials are refused.
TOKEN_OPS = frozenset({"login", "refresh"})


def _read(resp: UpstreamResponse, body: Any, op: str) -> Reading:
    label = body.get("error") if isinstance(body, dict) else None
    text = body.get("error_message") if isinstance(body, dict) else None
    label = label if isinstance(label, str) else None
    text = text if isinstance(text, str) else None
    path = "data" if op in ("create", "update") else ""
    said = text or label
    details = [backend_detail(path, said)] if said else [
        Detail(path, "rejected_by_backend", {"backend": "SugarCRM"})]
    return Reading(label=label, text=text, details=details)


TABLE = Table(backend="SugarCRM", read=_read, token_ops=TOKEN_OPS,
              token_refusals=(400, 401, 403, 422))  # invalid_grant, need_login, bad platform


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Sugar answer to operation ``op``."""
    return by_table(TABLE, source, op, resp)
