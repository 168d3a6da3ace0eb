"""The HTTP/1.1 listener: what the server accepts before any handler runs, how long it waits on
a consumer, how it refuses the rest, and what it says about itself.

aiohttp's parser refuses a request line or header past these bounds, or a body in a content
coding it cannot inflate, before the app sees the request; :class:`GatewayRunner` makes those
refusals the gateway's error envelope (rendered by ``gateway/http/middleware/errors.py``) rather
than aiohttp's plain text. Every way the gateway listens (``gateway serve``, ``gateway demo``)
uses it. No answer names the server's software or version: ``Server: recordgate``.

What a connection may cost, each bound from ``server.*``:

* ``headerTimeout``: a connection must deliver a request's complete headers within N seconds of
  opening (or of the first byte of a later request on it), else it is closed. aiohttp itself
  only has its keep-alive timer (an hour by default), so trickled headers would hold a socket
  and a parser for that long.
* ``writeTimeout``: when the consumer takes none of an answer for N seconds while the kernel's
  send buffer and the transport's are full (asyncio's ``pause_writing`` without a
  ``resume_writing``), the connection is aborted: the buffered answer is dropped, not flushed,
  and the handler still writing (a download) is cancelled with its backend call. This is the
  transport's own flow control, so it covers every answer the same way: an envelope, a bulk
  answer, a streamed file.
* the consumer hanging up cancels its handler (aiohttp's ``handler_cancellation``): an abandoned
  query stops making backend calls. Writes are shielded from that cancellation by
  ``gateway/http/lifecycle.py``, so a write already sent finishes and is recorded.

Only two of aiohttp's ``RequestHandler`` internals are read: ``_request_count`` (messages whose
headers were parsed) and ``_request_in_progress``;
``tests/integration/lifecycle/test_slow_consumers.py``
holds them to their meaning.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import hdrs, web
from aiohttp.web_request import BaseRequest

from gateway.http.keys import CONFIG
from gateway.http.lifecycle import INFLIGHT, WRITE_GRACE

__all__ = [
    "HANDLER_ARGS",
    "MAX_FIELD_SIZE",
    "MAX_HEADERS",
    "MAX_LINE_SIZE",
    "SERVER",
    "GatewayRunner",
    "set_server_header",
]

log = structlog.get_logger("gateway.listener")

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
# After the drain (gateway/http/lifecycle.py) nothing but answers being written is left; this is
# how long aiohttp's own shutdown then waits for them before closing the connections.
FINAL_SHUTDOWN = 2.0

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
_OURS = frozenset({"header_timeout", "write_timeout"})


async def set_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: aiohttp adds ``Server: Python/… aiohttp/…`` to an answer
    that has none, so every answer of the app names only the product."""
    response.headers[hdrs.SERVER] = SERVER


class _ListenerHandler(web.RequestHandler):
    """aiohttp's per-connection handler; its own refusals (the app never saw the request) are
    the gateway's envelope, and it closes connections that stall on headers or on reading."""

    def __init__(self, *args: Any, header_timeout: float | None = None,
                 write_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._write_timeout = write_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None

    # -- header-read timeout -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        # Bytes arriving while no request runs and none is queued start a request's headers
        # (a body arrives while its request is in progress, so it starts no timer).
        if data and self._header_timer is None and not self._request_in_progress \
                and not self._messages:
            self._arm_header_timer()
        parsed = self._request_count
        super().data_received(data)
        if self._request_count != parsed:
            self._disarm(self._header_timer)
            self._header_timer = None

    def _arm_header_timer(self) -> None:
        if self._header_timeout is not None and self._header_timer is None:
            self._header_timer = self._loop.call_later(self._header_timeout,
                                                       self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._request_in_progress or self._messages or self.transport is None:
            return  # headers came in (a request runs): nothing to cut
        log.info("connection_closed", reason="header_timeout", seconds=self._header_timeout,
                 peer=str(self.peername))
        self.force_close()

    # -- write timeout -------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timeout is not None and self._write_timer is None:
            self._write_timer = self._loop.call_later(self._write_timeout, self._reader_too_slow)

    def resume_writing(self) -> None:
        self._disarm(self._write_timer)
        self._write_timer = None
        super().resume_writing()

    def _reader_too_slow(self) -> None:
        self._write_timer = None
        transport = self.transport
        if transport is None or not self.writing_paused:
            return
        log.info("connection_closed", reason="write_timeout", seconds=self._write_timeout,
                 peer=str(self.peername))
        # abort(), not close(): close() would keep the buffered answer until it is flushed to
        # the very reader that is not taking it. connection_lost() follows, which cancels the
        # handler still writing (and wakes any drain() with ConnectionResetError).
        transport.abort()

    def connection_lost(self, exc: BaseException | None) -> None:
        for timer in (self._header_timer, self._write_timer):
            self._disarm(timer)
        self._header_timer = self._write_timer = None
        super().connection_lost(exc)

    @staticmethod
    def _disarm(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    # -- refusals --------------------------------------------------------------------------------

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
        super().__init__(handler, **{k: v for k, v in kwargs.items() if k not in _OURS})
        self._connection_args = {k: v for k, v in kwargs.items()
                                 if k not in _RUNNER_ONLY | {"request_factory", "loop"}}

    def __call__(self) -> web.RequestHandler:
        return _ListenerHandler(self, loop=asyncio.get_running_loop(), **self._connection_args)


class GatewayRunner(web.AppRunner):
    """``web.AppRunner`` with :data:`HANDLER_ARGS`, :class:`_ListenerHandler` connections bound
    by the app's ``server.headerTimeout``/``writeTimeout``, handlers cancelled when their
    consumer hangs up, and :meth:`stop`, the gateway's way to shut down."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        server = app[CONFIG].server
        kwargs = {
            **HANDLER_ARGS,
            "handler_cancellation": True,
            "shutdown_timeout": FINAL_SHUTDOWN,
            "header_timeout": server.headerTimeout,
            "write_timeout": server.writeTimeout,
            **kwargs,
        }
        super().__init__(app, **kwargs)
        self._connection_args = {k: v for k, v in kwargs.items()
                                 if k not in _RUNNER_ONLY - {"handler_cancellation"}}

    async def _make_server(self) -> web.Server:
        # The app's own server (startup run, app frozen), rebuilt with our connection handler.
        plain = await super()._make_server()
        return _ListenerServer(plain.request_handler, request_factory=plain.request_factory,
                               **self._connection_args)

    async def stop(self, hurry: asyncio.Event | None = None) -> None:
        """Shut down as on SIGTERM: stop listening and close idle connections; let requests in
        flight finish for ``server.drainTimeout`` (less once ``hurry`` is set, by a second
        signal); then cancel reads and stop bulk calls between entries, wait for the writes
        already sent, and clean up (sources and state store last)."""
        for site in list(self.sites):
            await site.stop()
        if self.server is not None:
            self.server.pre_shutdown()  # idle keep-alive connections close now, busy ones after
        server = self.app[CONFIG].server
        await self.app[INFLIGHT].drain(server.drainTimeout, hurry or asyncio.Event(),
                                       write_cap=server.requestTimeout + WRITE_GRACE)
        await self.cleanup()
