"""Sugar's error answers: SugarApiException labels and the {"error", "error_message"} body."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson

__all__ = ["SugarError", "error_body", "fault_body", "status_text"]

# Labels Sugar uses when only a status is known (injected faults, unexpected errors).
_DEFAULT_LABEL = {
    400: "invalid_request", 401: "need_login", 403: "not_authorized", 404: "not_found",
    409: "edit_conflict", 412: "metadata_out_of_date", 413: "request_too_large",
    422: "invalid_parameter", 424: "request_failure", 429: "too_many_requests",
    433: "client_outdated", 500: "fatal_error", 502: "bad_gateway",
    503: "service_unavailable", 504: "gateway_timeout",
}

MAINTENANCE_MESSAGE = ("SugarCRM is in maintenance mode. Only admins can login. "
                       "Please contact your administrator for details.")


class SugarError(Exception):
    """A SugarApiException: status, label, message and extra keys merged into the body."""

    def __init__(self, status: int, error: str, message: str = "", **extra: Any) -> None:
        super().__init__(message or error)
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error}
        if self.message:  # Sugar omits an empty error_message
            out["error_message"] = self.message
        out.update(self.extra)
        return out


def error_body(err: SugarError) -> bytes:
    return orjson.dumps(err.body())


def fault_body(status: int) -> bytes:
    """Body for an injected failure with only a status to go on."""
    label = _DEFAULT_LABEL.get(status, "unknown_error" if status >= 500 else "invalid_request")
    try:
        message = HTTPStatus(status).phrase
    except ValueError:
        message = "Unknown error"
    return orjson.dumps({"error": label, "error_message": message})


def status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
