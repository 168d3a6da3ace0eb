"""The gateway's one error tree: every failure a user can see is one of these classes.

Raise anywhere, render once (``gateway/http/middleware/errors.py``). Each class carries its HTTP
``status`` and its stable ``error`` id. A raiser names the message by ``key`` (defaulting to
``error``) and gives its ``params``; the text is the template of that key in
``gateway/messages/<locale>.yaml`` (the catalogs of ``gateway/i18n.py``), filled with the
params in the caller's locale. ``msg`` and ``str(exc)`` are the English text. Free text of a
backend or of the system travels as a parameter of a key, never as the message itself::

    raise NotFound("record_not_found", {"source": "crm", "entity": "Accounts", "id": "7"})
    raise InvalidRequest(details=[Detail("filter[0][1].operator", "bad_operator", {...})])

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gateway.i18n import DEFAULT_LOCALE, Message, translate

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
    "first_problem",
]


@dataclass(frozen=True, slots=True)
class Detail:
    """One input problem: where (``filter[0][1].operator``) and what, as a message key and its
    params (``Detail("filter[0][1].operator", "bad_operator", {"operator": "~="})``)."""

    path: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, locale: str) -> str:
        """The message in ``locale``; the key itself when the catalog lacks it."""
        return translate(self.key, locale, self.params)

    @property
    def msg(self) -> str:
        """The English text."""
        return self.text(DEFAULT_LOCALE)


def first_problem(first: Detail, count: int) -> tuple[str, dict[str, Any]]:
    """Key and params of the message of an error with ``count`` problems, ``first`` among them:
    ``filter[0][1].operator: Unknown operator '~=' (and 2 more problems)``."""
    more = count - 1
    params = {"path": first.path, "problem": Message(first.key, first.params), "more": more,
              "count": count}
    return ("problems_at" if more else "problem_at"), params


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a backend answered when its answer caused the error."""

    name: str
    status: int | None
    error: str | None


class GatewayError(Exception):
    """Base of every error the gateway renders; ``status`` and ``error`` are class attributes.

    ``key`` names the message (default: the class's ``error``), ``params`` fill it; ``msg`` is
    its English text.
    """

    status: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(
        self, key: str | None = None, params: Mapping[str, Any] | None = None, *,
        details: Iterable[Detail] = (), source: SourceInfo | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.key: str = key or self.error
        self.params: dict[str, Any] = dict(params or {})
        self.details: list[Detail] = list(details)
        self.source = source
        self.retry_after = retry_after
        self.msg: str = self.text(DEFAULT_LOCALE)
        super().__init__(self.msg)

    def text(self, locale: str) -> str:
        """The message in ``locale``; the key itself when the catalog lacks it."""
        return translate(self.key, locale, self.params)

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
        super().__init__("not_executed")


class NotSent(NotExecuted):
    """A bulk entry the gateway did not start because the call was stopped (deadline passed,
    consumer gone, shutdown): it had no effect, unlike an entry whose outcome is unknown."""

    def __init__(self) -> None:
        GatewayError.__init__(self, "not_executed_stopped")


class RateLimited(GatewayError):
    status, error = 429, "rate_limited"


class BackendFailure(GatewayError):
    """The backend answered badly (5xx, garbage) or not at all.

    ``sent`` is False when the request provably never reached the backend (safe to repeat any
    call), True when it did, None when unknown; only reads may be repeated unless it is False.
    """

    status, error = 502, "backend_error"

    def __init__(
        self, key: str | None = None, params: Mapping[str, Any] | None = None, *,
        sent: bool | None = None, details: Iterable[Detail] = (),
        source: SourceInfo | None = None, retry_after: float | None = None,
    ) -> None:
        super().__init__(key, params, details=details, source=source, retry_after=retry_after)
        self.sent = sent


class BackendAuthFailed(BackendFailure):
    error = "backend_auth_failed"


class BackendUnavailable(BackendFailure):
    status, error = 503, "backend_unavailable"


class BackendTimeout(BackendFailure):
    status, error = 504, "backend_timeout"
