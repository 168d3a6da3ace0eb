"""Request context: request id, structlog contextvars, call stats, one access line, metrics,
and the ``Server-Timing`` header (spec §13).

Every answer, errors and streamed ones included, carries ``X-Request-Id`` and
``Server-Timing: gateway;dur=<ms>`` (the whole time from the request's arrival to its answer's
head, backends included), with ``, backend;dur=<ms>;desc="<n> calls"`` when backends were
called (``n`` counts every attempt, retries and logins included, as the access line's
``backend_calls``; ``dur`` sums their times, so overlapping calls may add up to more than the
gateway's). Both are set by the ``on_response_prepare`` hook, so a streamed answer carries
what had happened when its head went out.
"""

from __future__ import annotations

import os
import re
import time

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from gateway.http.keys import CONFIG, METRICS, STATE, RequestState
from gateway.http.protocol import SERVER
from gateway.i18n import UnknownLocale, parse_locale
from gateway.observability import tracing
from gateway.observability.logging import INFO, WARNING, HotLogger
from gateway.upstream import deadline
from gateway.upstream.context import CALL_STATS, CallStats

__all__ = [
    "REQUEST_ID_HEADER",
    "SERVER_TIMING_HEADER",
    "add_request_id_header",
    "context_middleware",
    "prepare_headers",
    "route_label",
]

REQUEST_ID_HEADER = "X-Request-Id"
SERVER_TIMING_HEADER = "Server-Timing"
# When the request arrived (perf_counter) and its backend calls, for the Server-Timing header.
_STARTED = web.RequestKey("recordgate_started", float)
_CALLS = web.RequestKey("recordgate_call_stats", CallStats)
# Echo a caller's id only when it cannot corrupt a log line or a header.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:@+=/-]{1,128}$")
# Status logged and counted when the client went away before we answered (nginx's convention).
CLIENT_CLOSED = 499

access_log = HotLogger("gateway.access")
# uuid.uuid4().hex without the UUID object: 128 random bits, version 4, RFC 4122 variant.
_V4_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_V4_SET = (0x8000 << 48) | (4 << 76)


def route_label(request: web.Request) -> str:
    """The route pattern (``/v1/records/{source}/{entity}``), never the raw path, so metric
    label sets stay bounded whatever paths clients send."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER)
    if given is not None and _SANE_ID.match(given):
        return given
    return f"{int.from_bytes(os.urandom(16)) & _V4_KEEP | _V4_SET:032x}"


@web.middleware
async def context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    stats = CallStats()
    request[_STARTED] = started
    request[_CALLS] = stats
    st = RequestState(request_id=_request_id(request))
    raw_locale = request.query.get("locale")
    try:
        st.locale = parse_locale(raw_locale)
    except UnknownLocale:
        st.locale_asked = raw_locale  # refused later, for /v1 calls only (consumers middleware)
    request[STATE] = st
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=st.request_id)
    if tracing.TRACER is not None:
        tracing.tag({tracing.REQUEST_ID: st.request_id})
    token = CALL_STATS.set(stats)
    deadline_token = deadline.start(request.app[CONFIG].server.requestTimeout)
    status = CLIENT_CLOSED
    try:
        resp = await handler(request)
        status = resp.status
        return resp
    finally:
        CALL_STATS.reset(token)
        deadline.end(deadline_token)
        elapsed = time.perf_counter() - started
        route = route_label(request)
        request.app[METRICS].request(route, request.method, status, elapsed)
        fields = {
            "consumer": st.consumer.name if st.consumer is not None else None,
            "org": st.org,
            "route": route,
            "method": request.method,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "backend_calls": stats.calls,
            "backend_ms": round(stats.seconds * 1000, 2),
        }
        if st.extra:
            fields.update(st.extra)
        if status >= 500:
            access_log.log(WARNING, "warning", "request", fields)
        else:
            access_log.log(INFO, "info", "request", fields)
        if tracing.TRACER is not None:
            tracing.tag({"recordgate.consumer": st.consumer.name if st.consumer else None,
                         "recordgate.org": st.org, "recordgate.backend_calls": stats.calls})


async def prepare_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The app's one ``on_response_prepare`` hook (one awaited call per answer rather than
    three): the id and ``Server-Timing``, ``Server`` (``gateway/http/protocol.py``) and the
    RateLimit-* headers (``gateway/http/middleware/limits.py``), in that order."""
    st = request.get(STATE)
    if st is not None:
        _set_id_and_timing(request, response, st)
    response.headers[hdrs.SERVER] = SERVER
    if st is not None and st.headers:
        response.headers.update(st.headers)


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: every answer, streamed ones included, carries the id and
    ``Server-Timing`` (module docstring)."""
    st = request.get(STATE)
    if st is not None:
        _set_id_and_timing(request, response, st)


def _set_id_and_timing(request: web.Request, response: web.StreamResponse,
                       st: RequestState) -> None:
    headers = response.headers
    headers[REQUEST_ID_HEADER] = st.request_id
    stats = request[_CALLS]
    ms = (time.perf_counter() - request[_STARTED]) * 1000
    if stats.calls:
        headers[SERVER_TIMING_HEADER] = (
            f'gateway;dur={ms:.2f}, backend;dur={stats.seconds * 1000:.2f};'
            f'desc="{stats.calls} calls"'
        )
    else:
        headers[SERVER_TIMING_HEADER] = f"gateway;dur={ms:.2f}"
