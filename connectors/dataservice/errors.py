"""One table: a Data Service status (and ``code``) → the gateway error it means."""

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

__all__ = ["BATCH_OPS", "MAINTENANCE_RETRY_AFTER", "TOKEN_OPS", "BatchRejected", "classify",
           "message"]

MAINTENANCE_RETRY_AFTER = 60.0
TOKEN_OPS = frozenset({"login"})
BATCH_OPS = frozenset({"insert_batch", "update_batch", "delete_batch"})
_WRITE_OPS = frozenset({"create", "update", "insert_batch", "update_batch"})


class BatchRejected(InvalidRequest):
    """A batch answered 400 whose body is still a batch answer (per-record failures reported as
    a 400, as UiPath's Python SDK recovers); the batch code reads ``answer``."""

    def __init__(self, msg: str, answer: dict[str, Any], **kw: Any) -> None:
        super().__init__(msg, **kw)
        self.answer = answer

# status -> (gateway class, the source error id shown when the body names none)
_TABLE: dict[int, tuple[type[GatewayError], str]] = {
    400: (InvalidRequest, "bad_request"),
    401: (BackendAuthFailed, "unauthenticated"),  # still refused after a renewed token
    403: (Forbidden, "forbidden"),  # entity, field or record permission; robot type
    404: (NotFound, "not_found"),
    409: (Conflict, "conflict"),
    413: (PayloadTooLarge, "payload_too_large"),
    422: (InvalidRequest, "unprocessable"),
    429: (RateLimited, "throttled"),
    503: (BackendUnavailable, "unavailable"),
}


def message(body: Any, raw: bytes) -> str | None:
    """The service's own text: ``error``/``message``/``title`` of a JSON body, or plain text."""
    if isinstance(body, dict):
        for key in ("error", "message", "title", "error_description"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        return None
    if body is None and raw and len(raw) < 2000:
        text = raw.decode("utf-8", "replace").strip()
        return text if text and not text.startswith("<") else None  # not an HTML page
    return None


def _details(body: Any, fallback: str) -> list[Detail]:
    """ASP.NET ProblemDetails ``errors: {field: [msg]}`` become one detail each."""
    out: list[Detail] = []
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):
        for path, msgs in errors.items():
            for msg in msgs if isinstance(msgs, list) else [msgs]:
                out.append(Detail(path=str(path), msg=str(msg)))
    return out or [Detail(path="", msg=fallback)]


def _label(body: Any, default: str) -> str:
    if isinstance(body, dict):
        for key in ("code", "errorCode", "error_code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        if isinstance(body.get("error"), str) and body.get("error_description") is not None:
            return str(body["error"])  # OAuth2 answers: error is the id, not the text
    return default


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Data Service (or identity) answer to operation ``op``."""
    body: Any = resp.json_or_none()
    text = message(body, resp.body)
    status = resp.status
    if op in TOKEN_OPS and status in (400, 401, 403):
        # invalid_client, unauthorized_client, invalid_scope: our configured credentials
        return BackendAuthFailed(
            f"{source}: UiPath identity refused the gateway's client credentials",
            source=SourceInfo(source, status, _label(body, "invalid_client")), sent=True,
        )
    cls, default = _TABLE.get(status, (BackendFailure, "server_error"))
    info = SourceInfo(source, status, _label(body, default))
    msg = f"{source}: {text or f'Data Service answered HTTP {status}'}"
    if (op in BATCH_OPS and status == 400 and isinstance(body, dict)
            and isinstance(body.get("successRecords"), list)):
        return BatchRejected(msg, body, source=info)
    if cls is BackendUnavailable:
        wait = parse_retry_after(resp.headers.get("Retry-After"))
        return BackendUnavailable(msg, source=info, sent=True,
                                  retry_after=MAINTENANCE_RETRY_AFTER if wait is None else wait)
    if cls is BackendAuthFailed:
        return BackendAuthFailed(
            f"{source}: Data Service refused the gateway's renewed token", source=info, sent=True
        )
    if cls is BackendFailure:
        return BackendFailure(f"{source}: Data Service failed with HTTP {status}",
                              source=info, sent=True)
    if cls is InvalidRequest:
        details = _details(body, text or "rejected by the Data Service")
        if op in _WRITE_OPS and len(details) == 1 and not details[0].path:
            details = [Detail(path="data", msg=details[0].msg)]
        return InvalidRequest(msg, details=details, source=info)
    if cls is RateLimited:
        return RateLimited(msg, source=info,
                           retry_after=parse_retry_after(resp.headers.get("Retry-After")))
    return cls(msg, source=info)
