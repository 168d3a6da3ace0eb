"""POST /v1/bulk (spec §6): parse the batch, run it through gateway.bulk, answer every entry."""

from __future__ import annotations

from aiohttp import web

from gateway.bulk import parse_bulk, run_bulk
from gateway.http.envelope import JSON_TYPE, dumps
from gateway.http.handlers.records import read_object
from gateway.http.keys import CONFIG, state

__all__ = ["bulk"]


async def bulk(request: web.Request) -> web.Response:
    """200 with ``[{"contents", "headers", "status"}, …]``, one per entry in order; 400 for a
    body of the wrong shape, 413 over ``server.maxBodyBytes`` or ``server.maxBulkRequests``."""
    # Entries are clones of this request; aiohttp clones only a request whose body is unread.
    template = request.clone()
    body = await read_object(request)
    parsed = parse_bulk(body, max_entries=request.app[CONFIG].server.maxBulkRequests)
    st = state(request)
    st.extra["bulk_entries"] = len(parsed.entries)
    st.extra["bulk_chunks"] = 0
    results, stats = await run_bulk(request, template, parsed)
    st.extra["bulk_chunks"] = stats.chunks
    resp = web.Response(body=dumps([r.as_json() for r in results]), status=200)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp
