"""The only place exceptions become HTTP answers: GatewayError, aiohttp's HTTP errors, and bugs."""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.errors import GatewayError, InvalidRequest, MethodNotAllowed, NotFound
from gateway.http.envelope import error_response
from gateway.http.keys import CONFIG, state
from gateway.http.middleware.limits import too_large

__all__ = ["errors_middleware"]

log = structlog.get_logger("gateway.errors")


def _from_http(exc: web.HTTPException, request: web.Request) -> tuple[GatewayError, dict[str, str]]:
    """aiohttp's own refusals, in our vocabulary."""
    if isinstance(exc, web.HTTPNotFound):
        return NotFound(
            f"There is no endpoint at {request.path[:200]}",
            key="no_route", params={"path": request.path[:200]},
        ), {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        err = MethodNotAllowed(
            f"Method {request.method} is not allowed here", params={"method": request.method}
        )
        return err, {"Allow": ", ".join(sorted(exc.allowed_methods))}
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return too_large(request.app[CONFIG].server.maxBodyBytes), {}
    if exc.status < 500:
        return InvalidRequest(exc.reason), {}
    return GatewayError("Internal error"), {}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    st = state(request)
    headers: dict[str, str] = {}
    try:
        return await handler(request)
    except GatewayError as exc:
        err = exc
        if err.status >= 500:
            log.warning("request_failed", error=err.error, msg=err.msg, exc_info=err.status == 500)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are answers, not errors
            raise
        err, headers = _from_http(exc, request)
    except Exception:
        # A bug: the traceback goes to our log (scrubbed), never to the caller.
        log.error("unhandled_exception", exc_info=True)
        err = GatewayError()  # the catalog's text: nothing of the bug reaches the caller
    st.extra["error"] = err.error
    return error_response(err, locale=st.locale, request_id=st.request_id, headers=headers)
