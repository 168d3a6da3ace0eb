"""Slingr's error answers: {"code", "message"} bodies, and {"errors": [...]} for validation."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson

__all__ = ["FieldError", "SlingrError", "fault_body", "not_found_entity", "validation_error"]

# Error code per HTTP status, for injected faults that only know a status [SD-API §General errors].
_CODE_FOR_STATUS = {
    400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "notFound",
    409: "optimisticLocking", 500: "systemException", 503: "applicationUnavailable",
}


class SlingrError(Exception):
    """An error answer: HTTP status, Slingr error code, message and optional field errors."""

    def __init__(self, status: int, code: str, message: str,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def FieldError(field: str, label: str | None, code: str, message: str,
               rejected: Any = ..., ) -> dict[str, Any]:
    """One entry of a validationErrors body, keys in the documented order."""
    return {"field": field, "fieldLabel": label, "code": code, "message": message,
            "additionalInfo": None if rejected is ... else {"rejectedValue": rejected}}


def validation_error(errors: list[dict[str, Any]]) -> SlingrError:
    return SlingrError(400, "validationErrors", "There are validation errors", errors)


def not_found_entity(entity: str) -> SlingrError:
    return SlingrError(404, "notFound", f"Entity [{entity}] does not exist")


def fault_body(status: int) -> bytes:
    """Body for an injected failure with only a status to go on."""
    code = _CODE_FOR_STATUS.get(status, "unknownError" if status >= 500 else "badRequest")
    if status == 429:
        code = "tooManyRequests"  # Slingr documents no rate limit; a plausible body (inferred)
    try:
        message = HTTPStatus(status).phrase
    except ValueError:
        message = "Unknown error"
    return orjson.dumps({"code": code, "message": message})
