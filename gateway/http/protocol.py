"""The HTTP/1.1 listener: what the server accepts before any handler runs, how it refuses the
rest, and what it says about itself.

aiohttp's parser refuses a request line or header past these bounds, or a body in a content
coding it cannot inflate, before the app sees the request; :class:`GatewayRunner` makes those
refusals the gateway's error envelope (rendered by ``gateway/http/middleware/errors.py``) rather
than aiohttp's plain text. Every way the gateway listens (``gateway serve``, ``gateway demo``)
uses it. No answer names the server's software or version: ``Server: recordgate``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_request import BaseRequest

__all__ = [
    "HANDLER_ARGS",
    "MAX_FIELD_SIZE",
    "MAX_HEADERS",
    "MAX_LINE_SIZE",
    "SERVER",
    "GatewayRunner",
    "set_server_header",
]

# The request line: room for a GET query whose filter is URL-encoded JSON (aiohttp's 8 KiB is
# short for that), and no more: a longer query belongs in POST .../query.
MAX_LINE_SIZE = 32_768
# One header line; a bearer key or an If-Match is far shorter.
MAX_FIELD_SIZE = 16_384
MAX_HEADERS = 100
# After answering early (413 on a chunked body past server.maxBodyBytes), aiohttp reads and drops
# what the client still sends so that the client can read the answer. Its default is 10 s of that;
# 2 s is enough for a client to stop, and bounds what a hostile sender gets out of us.
LINGERING_TIME = 2.0

HANDLER_ARGS: dict[str, Any] = {
    "max_line_size": MAX_LINE_SIZE,
    "max_field_size": MAX_FIELD_SIZE,
    "max_headers": MAX_HEADERS,
    "lingering_time": LINGERING_TIME,
}

# The product, without a version: a version banner only helps someone match us to a CVE list.
SERVER = "recordgate"
# What a runner takes for itself rather than handing to each connection.
_RUNNER_ONLY = frozenset({"handle_signals", "shutdown_timeout", "handler_cancellation"})


async def set_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: aiohttp adds ``Server: Python/… aiohttp/…`` to an answer
    that has none, so every answer of the app names only the product."""
    response.headers[hdrs.SERVER] = SERVER


class _ListenerHandler(web.RequestHandler):
    """aiohttp's per-connection handler; its own refusals (the app never saw the request) are
    the gateway's envelope."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's version logs the refusal and checks nothing was sent yet; keep both.
        super().handle_error(request, status, exc, message)
        from gateway.http.middleware.errors import listener_error_response  # avoids a cycle

        resp = listener_error_response(status, exc)
        resp.headers[hdrs.SERVER] = SERVER
        resp.force_close()  # as aiohttp does: the stream may be out of step after a bad message
        return resp


class _ListenerServer(web.Server):
    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._connection_args = {k: v for k, v in kwargs.items()
                                 if k not in _RUNNER_ONLY | {"request_factory", "loop"}}

    def __call__(self) -> web.RequestHandler:
        return _ListenerHandler(self, loop=asyncio.get_running_loop(), **self._connection_args)


class GatewayRunner(web.AppRunner):
    """``web.AppRunner`` with :data:`HANDLER_ARGS` and :class:`_ListenerHandler` connections."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs = {**HANDLER_ARGS, **kwargs}
        super().__init__(app, **kwargs)
        self._connection_args = {k: v for k, v in kwargs.items()
                                 if k not in _RUNNER_ONLY - {"handler_cancellation"}}

    async def _make_server(self) -> web.Server:
        # The app's own server (startup run, app frozen), rebuilt with our connection handler.
        plain = await super()._make_server()
        return _ListenerServer(plain.request_handler, request_factory=plain.request_factory,
                               **self._connection_args)
