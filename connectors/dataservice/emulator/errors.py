"""Data Service error answers: {"error", "traceId"} bodies, ASP.NET ProblemDetails, doc texts."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

import orjson

__all__ = ["FORBIDDEN", "UNAUTHENTICATED", "DsError", "fault_body", "problem", "trace_id"]

# The 401 and 403 texts every API page (and seed 000) documents, word for word.
UNAUTHENTICATED = ("You are not authenticated to access Data Service. Make sure your Assistant or "
                   "Robot is connected to a modern folder in your account.")
FORBIDDEN = ("You don't have permission to access the entity, field or record or you are using "
             "an unsupported robot type. Please contact your administrator for necessary "
             "permissions.")


def trace_id() -> str:
    return uuid.uuid4().hex


class DsError(Exception):
    """An error Data Service answers as {"error": message, "traceId": …} (+ extra keys)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra
        self.raw: dict[str, Any] | None = None  # a whole body that is not the usual shape

    def body(self) -> dict[str, Any]:
        if self.raw is not None:
            return self.raw
        return {"error": self.message, **self.extra, "traceId": trace_id()}


def problem(errors: dict[str, list[str]]) -> DsError:
    """ASP.NET model-binding failure (e.g. `start=`): the ProblemDetails shape (inferred)."""
    err = DsError(400, "One or more validation errors occurred.")
    err.raw = {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
               "title": "One or more validation errors occurred.", "status": 400,
               "errors": errors, "traceId": f"00-{trace_id()}-{uuid.uuid4().hex[:16]}-00"}
    return err


def fault_body(status: int) -> bytes:
    """Body for an injected failure with only a status to go on."""
    if status == 401:
        message = UNAUTHENTICATED
    elif status == 403:
        message = FORBIDDEN
    else:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "Unknown error"
    return orjson.dumps({"error": message, "traceId": trace_id()})
