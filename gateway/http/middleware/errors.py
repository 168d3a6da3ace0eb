"""The only place exceptions become HTTP answers: GatewayError, aiohttp's HTTP errors, and bugs.

Two ways in: :func:`errors_middleware` for everything the app raises, and
:func:`listener_error_response` for what aiohttp's connection handler refuses before the app
sees a request (``gateway/http/protocol.py``): a malformed request line or header, one past the
parser's bounds, or a body in a content coding the parser cannot inflate (``br`` without Brotli,
``zstd`` without its module).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import structlog
from aiohttp import hdrs, web
from aiohttp.http_exceptions import ContentEncodingError
from aiohttp.typedefs import Handler

from gateway.errors import (
    GatewayError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from gateway.http.envelope import error_response
from gateway.http.keys import CONFIG, state
from gateway.http.middleware.context import REQUEST_ID_HEADER
from gateway.http.middleware.limits import too_large
from gateway.i18n import DEFAULT_LOCALE

__all__ = [
    "ACCEPT_ENCODING",
    "as_error",
    "errors_middleware",
    "listener_error_response",
    "method_not_allowed",
    "no_route",
    "render_error",
    "unsupported_encoding",
]

log = structlog.get_logger("gateway.errors")

# The content codings of request bodies that aiohttp inflates whatever is installed; the 415
# answer names them (RFC 9110 §15.5.16: Accept-Encoding says what would have been accepted).
ACCEPT_ENCODING = "gzip, deflate, identity"
_CODING_IN_MESSAGE = re.compile(r"\((\w+)\)")


def unsupported_encoding(coding: str) -> UnsupportedMediaType:
    """415 for a body in ``coding`` (the answer names the codings that would do)."""
    shown = coding[:40]
    return UnsupportedMediaType("unsupported_content_encoding", {"encoding": shown})


def _extra_headers(err: GatewayError) -> dict[str, str]:
    return {hdrs.ACCEPT_ENCODING: ACCEPT_ENCODING} if isinstance(err, UnsupportedMediaType) else {}


def _from_payload(exc: web.RequestPayloadError, request: web.Request) -> GatewayError:
    """The body could not be read: its compressed data is corrupt, or its framing is broken
    (short of Content-Length, bad chunks). The caller's fault, so a 400, never a 500."""
    if isinstance(exc.__cause__, ContentEncodingError):
        coding = request.headers.get(hdrs.CONTENT_ENCODING, "")[:40]
        return InvalidRequest("bad_content_encoding", {"encoding": coding})
    return InvalidRequest("malformed_http")


def listener_error_response(status: int, exc: BaseException | None) -> web.Response:
    """The envelope for a refusal of aiohttp's connection handler (no app, no request state:
    the default locale and a fresh request id)."""
    err: GatewayError
    if isinstance(exc, ContentEncodingError):
        # Raised while the headers are parsed: the coding is known to aiohttp (br, zstd) but
        # its decoder is not installed. The message names it in brackets.
        found = _CODING_IN_MESSAGE.search(exc.message)
        err = unsupported_encoding(found.group(1) if found else "")
    elif status < 500:
        err = InvalidRequest("malformed_http")
    else:
        err = GatewayError()
    request_id = uuid.uuid4().hex
    headers = {**_extra_headers(err), REQUEST_ID_HEADER: request_id}
    return error_response(err, locale=DEFAULT_LOCALE, request_id=request_id, headers=headers)


def no_route(path: str) -> NotFound:
    """404 for a path no route serves (a call alone, or a bulk entry)."""
    return NotFound("no_route", {"path": path[:200]})


def method_not_allowed(
    method: str, allowed: Iterable[str]
) -> tuple[MethodNotAllowed, dict[str, str]]:
    """405 and its Allow header, for a path whose routes take other methods."""
    err = MethodNotAllowed("method_not_allowed_here", {"method": method})
    return err, {"Allow": ", ".join(sorted(allowed))}


def _from_http(exc: web.HTTPException, request: web.Request) -> tuple[GatewayError, dict[str, str]]:
    """aiohttp's own refusals, in our vocabulary."""
    if isinstance(exc, web.HTTPNotFound):
        return no_route(request.path), {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return method_not_allowed(request.method, exc.allowed_methods)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return too_large(request.app[CONFIG].server.maxBodyBytes), {}
    # aiohttp's reason phrase is its text, a parameter of ours.
    if isinstance(exc, web.HTTPUnsupportedMediaType):
        return UnsupportedMediaType("http_refused_media_type", {"reason": exc.reason}), {}
    if exc.status < 500:
        return InvalidRequest("http_refused", {"reason": exc.reason}), {}
    return GatewayError(), {}


def as_error(exc: Exception) -> GatewayError:
    """A raised exception in our vocabulary: a GatewayError as it is (logged when it is the
    gateway's or the backend's fault), anything else a bug: logged, and a bare 500."""
    if isinstance(exc, GatewayError):
        if exc.status >= 500:
            log.warning("request_failed", error=exc.error, msg=exc.msg, exc_info=exc.status == 500)
        return exc
    # A bug: the traceback goes to our log (scrubbed), never to the caller.
    log.error("unhandled_exception", exc_info=True)  # called while handling exc
    return GatewayError()  # the catalog's text: nothing of the bug reaches the caller


def render_error(
    err: GatewayError, *, locale: str, request_id: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The answer to ``err``: the error envelope with the headers it calls for (a bulk entry's
    error is rendered by this same function)."""
    extra = dict(headers or {})
    extra.update(_extra_headers(err))
    return error_response(err, locale=locale, request_id=request_id, headers=extra)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    st = state(request)
    headers: dict[str, str] = {}
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are answers, not errors
            raise
        err, headers = _from_http(exc, request)
    except web.RequestPayloadError as exc:
        err = _from_payload(exc, request)
    except Exception as exc:
        err = as_error(exc)
    st.extra["error"] = err.error
    return render_error(err, locale=st.locale, request_id=st.request_id, headers=headers)
