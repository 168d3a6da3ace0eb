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

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, overload

from gateway.i18n import DEFAULT_LOCALE, Message, is_key, lookup, translate

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


@dataclass(frozen=True, slots=True, init=False)
class Detail:
    """One input problem: where (``filter[0][1].operator``) and what, as a message key and its
    params (``Detail("filter[0][1].operator", "bad_operator", {"operator": "~="})``)."""

    path: str
    key: str
    params: Mapping[str, Any]
    english: str | None  # TRANSITION(messages-as-data): a legacy raiser's English, else None

    @overload
    def __init__(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> None: ...

    @overload  # TRANSITION(messages-as-data): Detail(path, "English", key, params)
    def __init__(
        self, path: str, key: str, params: str | None,
        legacy_params: Mapping[str, Any] | None = None,
    ) -> None: ...

    @overload  # TRANSITION(messages-as-data): Detail(path=..., msg="English")
    def __init__(
        self, path: str, *, msg: str, key: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None: ...

    def __init__(
        self, path: str, key: str | None = None, params: Mapping[str, Any] | str | None = None,
        legacy_params: Mapping[str, Any] | None = None, *, msg: str | None = None,
        english: str | None = None,  # dataclasses.replace() passes it on
    ) -> None:
        if english is not None:
            msg, key = english, key or english
        english, key, params = _legacy_detail(key, params, legacy_params, msg)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "params", dict(params or {}))
        object.__setattr__(self, "english", english)

    def text(self, locale: str) -> str:
        """The message in ``locale``; the key itself when the catalog lacks it."""
        if self.english is not None:  # TRANSITION(messages-as-data)
            return _legacy_detail_text(self, locale)
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

    @overload
    def __init__(
        self, key: str | None = None, params: Mapping[str, Any] | None = None, *,
        details: Iterable[Detail] = (), source: SourceInfo | None = None,
        retry_after: float | None = None,
    ) -> None: ...

    @overload  # TRANSITION(messages-as-data): GatewayError("English", key=..., params=...)
    def __init__(
        self, msg: str | None, /, *, key: str | None = None,
        params: Mapping[str, Any] | None = None, details: Iterable[Detail] = (),
        source: SourceInfo | None = None, retry_after: float | None = None,
    ) -> None: ...

    def __init__(self, *args: Any, **kw: Any) -> None:
        key, params, english, rest = _legacy_error(self.error, args, kw)
        self.key: str = key
        self.params: dict[str, Any] = dict(params or {})
        self.english = english  # TRANSITION(messages-as-data)
        self.details: list[Detail] = list(rest.pop("details", ()))
        self.source: SourceInfo | None = rest.pop("source", None)
        self.retry_after: float | None = rest.pop("retry_after", None)
        if rest:
            raise TypeError(f"unexpected arguments: {', '.join(rest)}")
        self.msg: str = self.text(DEFAULT_LOCALE)
        super().__init__(self.msg)

    def text(self, locale: str) -> str:
        """The message in ``locale``; the key itself when the catalog lacks it."""
        if self.english is not None:  # TRANSITION(messages-as-data)
            return _legacy_error_text(self, locale)
        return translate(self.key, locale, self.params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.msg!r}, status={self.status})"


# --- TRANSITION(messages-as-data) ---------------------------------------------------------------
# Until connectors/, gateway/kit/ and examples/connector-template/ raise with keys only, the old
# forms still construct and render as before: GatewayError("English", key=..., params=...) and
# Detail(path, "English", key, params) / Detail(path=..., msg="English"). A first string that
# is neither a catalog key nor shaped like one (lowercase words joined by "_") is such English.
# To retire: delete this block, the ``english`` attributes and the lines marked with the tag,
# and give GatewayError.__init__ the first overload's signature.
_KEY_SHAPE = re.compile(r"[a-z][a-z0-9_]*")


def _is_english(text: str) -> bool:
    return not is_key(text) and _KEY_SHAPE.fullmatch(text) is None


def _legacy_error(
    error: str, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[str, Mapping[str, Any] | None, str | None, dict[str, Any]]:
    """(key, params, legacy English or None, the other keyword arguments)."""
    if len(args) > 2:
        raise TypeError(f"at most 2 positional arguments, got {len(args)}")
    key: str | None = kw.pop("key", None)
    params: Mapping[str, Any] | None = kw.pop("params", None)
    if len(args) == 2:
        if params is not None:
            raise TypeError("params given twice")
        params = args[1]
    first: str | None = args[0] if args else None
    if not first:  # GatewayError(key=..., params=...), or nothing: the class's own message
        return key or error, params, None, kw
    if key is None and not _is_english(first):  # GatewayError("key", {...})
        return first, params, None, kw
    return key or error, params, first, kw  # GatewayError("English"[, key=..., params=...])


def _legacy_error_text(err: GatewayError, locale: str) -> str:
    """The old rule: English is the raiser's text; elsewhere the catalog's text for the key,
    or the error's generic text with the English in brackets when no details carry it."""
    english = err.english or err.key
    if locale == DEFAULT_LOCALE:
        return english
    text = lookup(err.key, locale, err.params)
    if text is not None and err.key != err.error:
        return text
    generic = text or lookup(err.error, locale)
    if not generic:
        return english
    return generic if err.details else f"{generic} ({english})"


def _legacy_detail(
    key: str | None, params: Mapping[str, Any] | str | None,
    legacy_params: Mapping[str, Any] | None, msg: str | None,
) -> tuple[str | None, str, Mapping[str, Any] | None]:
    """(legacy English or None, key, params) of a Detail's arguments. English without a key
    becomes the key: it then shows as itself in every locale, as it did."""
    if msg is not None:  # Detail(path=..., msg="English"[, key=..., params=...])
        if isinstance(params, str):
            raise TypeError("params must be a mapping")
        return (msg, key, params) if key else (None, msg, params)
    if isinstance(params, str) or legacy_params is not None:  # Detail(path, "English", key, …)
        if params:
            return key or "", str(params), legacy_params
        return None, key or "", legacy_params
    return None, key or "", params


def _legacy_detail_text(detail: Detail, locale: str) -> str:
    english = detail.english or detail.key
    if locale == DEFAULT_LOCALE:
        return english
    return translate(detail.key, locale, detail.params, english)
# --- end TRANSITION(messages-as-data) -----------------------------------------------------------


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

    @overload
    def __init__(
        self, key: str | None = None, params: Mapping[str, Any] | None = None, *,
        sent: bool | None = None, details: Iterable[Detail] = (),
        source: SourceInfo | None = None, retry_after: float | None = None,
    ) -> None: ...

    @overload  # TRANSITION(messages-as-data): BackendFailure("English", key=..., sent=...)
    def __init__(
        self, msg: str | None, /, *, key: str | None = None,
        params: Mapping[str, Any] | None = None, sent: bool | None = None,
        details: Iterable[Detail] = (), source: SourceInfo | None = None,
        retry_after: float | None = None,
    ) -> None: ...

    def __init__(self, *args: Any, sent: bool | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.sent = sent


class BackendAuthFailed(BackendFailure):
    error = "backend_auth_failed"


class BackendUnavailable(BackendFailure):
    status, error = 503, "backend_unavailable"


class BackendTimeout(BackendFailure):
    status, error = 504, "backend_timeout"
