"""One table: a Data Service status (and ``code``) → the gateway error it means (kit table)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.errors import Detail, GatewayError, InvalidRequest, SourceInfo
from gateway.kit.classify import (
    MAINTENANCE_RETRY_AFTER,
    Reading,
    Table,
    backend_detail,
    by_table,
)
from gateway.upstream.client import UpstreamResponse

__all__ = ["BATCH_OPS", "MAINTENANCE_RETRY_AFTER", "TOKEN_OPS", "BatchRejected", "classify",
           "message"]

TOKEN_OPS = frozenset({"login"})
BATCH_OPS = frozenset({"insert_batch", "update_batch", "delete_batch"})
_WRITE_OPS = frozenset({"create", "update", "insert_batch", "update_batch"})


class BatchRejected(InvalidRequest):
    """A batch answered 400 whose body is still a batch answer (per-record failures reported as
    a 400, as UiPath's Python SDK recovers); the batch code reads ``answer``."""

    def __init__(self, answer: dict[str, Any], text: str, **kw: Any) -> None:
        super().__init__("invalid_request_said", {"source": kw["source"].name, "text": text}, **kw)
        self.answer = answer

# status -> the source error id shown when the body names none
_DEFAULT_LABELS: dict[int, str] = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    409: "conflict", 413: "payload_too_large", 422: "unprocessable", 429: "throttled",
    503: "unavailable",
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


def _details(body: Any, fallback: str | None) -> list[Detail]:
    """ASP.NET ProblemDetails ``errors: {field: [msg]}`` become one detail each."""
    out: list[Detail] = []
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):
        for path, msgs in errors.items():
            for msg in msgs if isinstance(msgs, list) else [msgs]:
                out.append(backend_detail(str(path), str(msg)))
    if out:
        return out
    return [backend_detail("", fallback) if fallback else
            Detail("", "rejected_by_backend", {"backend": "the Data Service"})]


def _label(body: Any, default: str) -> str:
    if isinstance(body, dict):
        for key in ("code", "errorCode", "error_code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        if isinstance(body.get("error"), str) and body.get("error_description") is not None:
            return str(body["error"])  # OAuth2 answers: error is the id, not the text
    return default


def _read(resp: UpstreamResponse, body: Any, op: str) -> Reading:
    text = message(body, resp.body)
    default = ("invalid_client" if op in TOKEN_OPS and resp.status in (400, 401, 403)
               else _DEFAULT_LABELS.get(resp.status, "server_error"))
    details = _details(body, text)
    if op in _WRITE_OPS and len(details) == 1 and not details[0].path:
        details = [replace(details[0], path="data")]
    # The message is the service's text, never its error id.
    return Reading(label=_label(body, default),
                   text=text or f"HTTP {resp.status}", details=details)


TABLE = Table(
    backend="Data Service", read=_read, token_ops=TOKEN_OPS, plain_failures=True,
    # invalid_client, unauthorized_client, invalid_scope: our configured credentials
    auth_key="identity_refused_credentials", renewed_key="backend_refused_renewed_token",
)


def classify(source: str, op: str, resp: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Data Service (or identity) answer to operation ``op``."""
    body: Any = resp.json_or_none()
    if (op in BATCH_OPS and resp.status == 400 and isinstance(body, dict)
            and isinstance(body.get("successRecords"), list)):
        got = _read(resp, body, op)
        return BatchRejected(body, got.text or "",
                             source=SourceInfo(source, resp.status, got.label))
    return by_table(TABLE, source, op, resp)
