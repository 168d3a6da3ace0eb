"""The gateway's one error tree: every failure a user can see is one of these classes.

Raise anywhere, render once (``gateway/http/middleware/errors.py``). Each class carries its HTTP
``status`` and its stable ``error`` id; the human ``msg`` is looked up in ``gateway/i18n.py`` by
``key`` (defaulting to ``error``) and formatted with ``params`` in the caller's locale.

    GatewayError                      500 internal_error
    ├── InvalidRequest                400 invalid_request
    │   ├── InvalidFilter             400 invalid_filter
    │   ├── InvalidOrder              400 invalid_order
    │   └── InvalidPage               400 invalid_page
    ├── Unauthorized                  401 unauthorized
    ├── Forbidden                     403 forbidden
    ├── NotFound                      404 not_found
    ├── MethodNotAllowed              405 method_not_allowed
    ├── Conflict                      409 conflict
    ├── PayloadTooLarge               413 payload_too_large
    ├── UnsupportedMediaType          415 unsupported_media_type
    ├── Unsupported                   422 unsupported
    ├── NotExecuted                   424 not_executed        (a bulk entry not run)
    │   └── NotSent                   424 not_executed        (the bulk call was stopped)
    ├── RateLimited                   429 rate_limited        (retry_after)
    └── BackendFailure                502 backend_error       (sent: was the call delivered?)
        ├── BackendAuthFailed         502 backend_auth_failed
        ├── BackendUnavailable        503 backend_unavailable (retry_after)
        └── BackendTimeout            504 backend_timeout

Errors caused by a backend's answer carry ``source`` (its name, status and own error id) so the
envelope can say which backend said what, never with its credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "BackendAuthFailed",
    "BackendFailure",
    "BackendTimeout",
    "BackendUnavailable",
    "Conflict",
    "Detail",
    "Forbidden",
    "GatewayError",
    "InvalidFilter",
    "InvalidOrder",
    "InvalidPage",
    "InvalidRequest",
    "MethodNotAllowed",
    "NotExecuted",
    "NotFound",
    "NotSent",
    "PayloadTooLarge",
    "RateLimited",
    "SourceInfo",
    "Unauthorized",
    "Unsupported",
    "UnsupportedMediaType",
]


@dataclass(frozen=True, slots=True)
class Detail:
    """One input problem: where (``filter[0][1].operator``) and what, in English.

    ``key``/``params`` let the renderer translate the message; ``msg`` is the English fallback.
    """

    path: str
    msg: str
    key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a backend answered when its answer caused the error."""

    name: str
    status: int | None
    error: str | None


class GatewayError(Exception):
    """Base of every error the gateway renders; ``status`` and ``error`` are class attributes."""

    status: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(
        self,
        msg: str | None = None,
        *,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        details: list[Detail] | tuple[Detail, ...] = (),
        source: SourceInfo | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.key = key or self.error
        self.params = params or {}
        self.msg = msg or self.key
        self.details = list(details)
        self.source = source
        self.retry_after = retry_after
        super().__init__(self.msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.msg!r}, status={self.status})"


class InvalidRequest(GatewayError):
    status, error = 400, "invalid_request"


class InvalidFilter(InvalidRequest):
    error = "invalid_filter"


class InvalidOrder(InvalidRequest):
    error = "invalid_order"


class InvalidPage(InvalidRequest):
    error = "invalid_page"


class Unauthorized(GatewayError):
    status, error = 401, "unauthorized"


class Forbidden(GatewayError):
    status, error = 403, "forbidden"


class NotFound(GatewayError):
    status, error = 404, "not_found"


class MethodNotAllowed(GatewayError):
    status, error = 405, "method_not_allowed"


class Conflict(GatewayError):
    status, error = 409, "conflict"


class PayloadTooLarge(GatewayError):
    status, error = 413, "payload_too_large"


class UnsupportedMediaType(GatewayError):
    """The request body comes in a form the gateway cannot read (a content coding other than
    gzip, deflate or identity)."""

    status, error = 415, "unsupported_media_type"


class Unsupported(GatewayError):
    status, error = 422, "unsupported"


class NotExecuted(GatewayError):
    """A bulk entry after the first failure of a ``failOnFirst`` batch: it was not run."""

    status, error = 424, "not_executed"

    def __init__(self) -> None:
        super().__init__("Not executed because an earlier request failed", key="not_executed")


class NotSent(NotExecuted):
    """A bulk entry the gateway did not start because the call was stopped (deadline passed,
    consumer gone, shutdown): it had no effect, unlike an entry whose outcome is unknown."""

    def __init__(self) -> None:
        GatewayError.__init__(
            self,
            "Not executed: the bulk call was stopped before this entry was sent (its time "
            "limit passed, the client went away or the gateway is shutting down); it had no "
            "effect", key="not_executed_stopped",
        )


class RateLimited(GatewayError):
    status, error = 429, "rate_limited"


class BackendFailure(GatewayError):
    """The backend answered badly (5xx, garbage) or not at all.

    ``sent`` is False when the request provably never reached the backend (safe to repeat any
    call), True when it did, None when unknown; only reads may be repeated unless it is False.
    """

    status, error = 502, "backend_error"

    def __init__(self, msg: str | None = None, *, sent: bool | None = None, **kw: Any) -> None:
        super().__init__(msg, **kw)
        self.sent = sent


class BackendAuthFailed(BackendFailure):
    error = "backend_auth_failed"


class BackendUnavailable(BackendFailure):
    status, error = 503, "backend_unavailable"


class BackendTimeout(BackendFailure):
    status, error = 504, "backend_timeout"
