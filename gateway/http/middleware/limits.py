"""Size limits on what a caller sends: bodies over ``server.maxBodyBytes`` are 413."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.errors import PayloadTooLarge
from gateway.http.keys import CONFIG

__all__ = ["STREAMED_ROUTE_PREFIX", "limits_middleware", "too_large"]

# Routes named with this prefix stream their body to a backend (file uploads) and enforce their
# own limit while streaming; the JSON body limit does not apply to them.
STREAMED_ROUTE_PREFIX = "files."


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body is larger than {limit} bytes", key="body_too_large", params={"max": limit}
    )


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse by the declared length before reading anything; a body sent without one (chunked)
    is cut off while reading by the app's ``client_max_size``, which the errors middleware
    renders as the same 413."""
    name = request.match_info.route.name or ""
    if not name.startswith(STREAMED_ROUTE_PREFIX):
        limit = request.app[CONFIG].server.maxBodyBytes
        length = request.content_length
        if length is not None and length > limit:
            raise too_large(limit)
    return await handler(request)
