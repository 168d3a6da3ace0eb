"""Table-driven error classification: a backend's non-2xx answer → the gateway error it means.

Every connector's ``classify`` has the same skeleton: credentials refused on a token call,
a 5xx that is not 503 is the backend failing, then the status table; 503 gets a Retry-After
(the backend's, else :data:`MAINTENANCE_RETRY_AFTER`), 429 carries the backend's, a
BackendFailure was sent, an InvalidRequest carries details. A connector gives a
:class:`Reading` of its answers (label, text, details) and its table; :func:`by_table` does
the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
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
from gateway.i18n import is_key
from gateway.upstream.client import UpstreamResponse
from gateway.upstream.retry import parse_retry_after

__all__ = [
    "MAINTENANCE_RETRY_AFTER", "STATUSES", "Reading", "Table", "backend_detail", "by_table",
    "said_key",
]

# The envelope promises Retry-After on 503; a maintenance answer often carries none.
MAINTENANCE_RETRY_AFTER = 60.0

# The statuses every backend means the same way (a table may override or add).
STATUSES: Mapping[int, type[GatewayError]] = {
    400: InvalidRequest, 401: BackendAuthFailed, 403: Forbidden, 404: NotFound, 409: Conflict,
    413: PayloadTooLarge, 422: InvalidRequest, 429: RateLimited, 503: BackendUnavailable,
}


@dataclass(frozen=True, slots=True)
class Reading:
    """What a connector read from one error answer."""

    label: str | None = None  # the backend's error id (SourceInfo.error)
    text: str | None = None  # the backend's own message
    details: list[Detail] = field(default_factory=list)  # per-field problems (400/422)


@dataclass(frozen=True, slots=True)
class Table:
    """One backend's error rules."""

    backend: str  # "SugarCRM": its name in messages
    # (answer, its decoded JSON or None, operation) → what the answer says
    read: Callable[[UpstreamResponse, Any, str], Reading]
    token_ops: Collection[str] = frozenset({"login"})  # calls to the token endpoint
    token_refusals: Collection[int] = (400, 401, 403)  # statuses there meaning "bad credentials"
    # (status, label) → class, most specific first; (status, None) matches any label.
    statuses: Mapping[tuple[int, str | None], type[GatewayError]] = field(default_factory=dict)
    # Message keys (gateway/messages), filled with source, backend, status and label:
    failure_key: str = "backend_failed_status"  # a 5xx, BackendFailure
    plain_failures: bool = False  # every BackendFailure says failure_key, not the backend's text
    auth_key: str = "backend_refused_credentials"  # the token endpoint refused our credentials
    renewed_key: str | None = None  # a 401 off the token endpoint says this, when given


def _lookup(table: Table, status: int, label: str | None) -> type[GatewayError]:
    found = table.statuses.get((status, label)) or table.statuses.get((status, None))
    return found or STATUSES.get(status, BackendFailure)


def by_table(table: Table, source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx answer to operation ``op``."""
    body: Any = resp.json_or_none()
    got = table.read(resp, body, op)
    status = resp.status
    info = SourceInfo(source, status, got.label)
    fill = {"source": source, "backend": table.backend, "status": status,
            "label": got.label or status}
    if op in table.token_ops and status in table.token_refusals:
        return BackendAuthFailed(table.auth_key, fill, source=info, sent=True)
    cls = _lookup(table, status, got.label)
    if (status >= 500 and cls is not BackendUnavailable) or (
            cls is BackendFailure and table.plain_failures):
        return BackendFailure(table.failure_key, fill, source=info, sent=True)
    said = {"source": source, "text": got.text or got.label or f"HTTP {status}"}
    key = said_key(cls)
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    if cls is BackendUnavailable:
        wait = MAINTENANCE_RETRY_AFTER if retry_after is None else retry_after
        return BackendUnavailable(key, said, source=info, sent=True, retry_after=wait)
    if cls is RateLimited:
        return RateLimited(key, said, source=info, retry_after=retry_after)
    if cls is BackendAuthFailed and table.renewed_key is not None:
        return BackendAuthFailed(table.renewed_key, fill, source=info, sent=True)
    if issubclass(cls, BackendFailure):
        return cls(key, said, source=info, sent=True)
    if cls is InvalidRequest:
        details = got.details or [
            Detail("", "rejected_by_backend", {"backend": table.backend}) if not (
                got.text or got.label) else backend_detail("", got.text or got.label or "")]
        return InvalidRequest(key, said, details=details, source=info)
    return cls(key, said, source=info)


def said_key(cls: type[GatewayError]) -> str:
    """The message key of a backend's own words raised as ``cls``: ``<error id>_said`` (the
    class's generic text with the backend's words in brackets; in English the words alone),
    else ``backend_said``."""
    key = f"{cls.error}_said"
    return key if is_key(key) else "backend_said"


def backend_detail(path: str, text: str) -> Detail:
    """A problem in the backend's own words (its text is data, never a message template)."""
    return Detail(path, "backend_detail", {"text": text})
