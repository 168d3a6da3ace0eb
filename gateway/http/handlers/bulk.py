"""POST /v1/bulk (spec §6): parse the batch, admit it, run it through gateway.bulk, answer every
entry as it is known (streamed, unless an Idempotency-Key needs the answer whole)."""

from __future__ import annotations

from aiohttp import web

from gateway import budgets
from gateway.bulk import BulkRun, EntryResult, parse_bulk
from gateway.http.envelope import JSON_TYPE, dumps
from gateway.http.handlers.records import read_object
from gateway.http.keys import CONFIG, state
from gateway.http.middleware.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.http.middleware.limits import charge_bulk

__all__ = ["bulk"]


async def bulk(request: web.Request) -> web.StreamResponse:
    """200 with ``[{"contents", "headers", "status"}, …]``, one per entry in order; 400 for a
    body of the wrong shape, 413 over ``server.maxBodyBytes``, ``server.maxBulkRequests`` or
    the request's ``recordsPerRequest`` budget (entries times pageSize), 429 over the consumer's
    rate limit (one token per entry) or ``bulkEntriesPerMinute``; all before any entry runs."""
    body = await read_object(request)
    server = request.app[CONFIG].server
    parsed = parse_bulk(body, max_entries=server.maxBulkRequests)
    st = state(request)
    st.extra["bulk_entries"] = len(parsed.entries)
    st.extra["bulk_chunks"] = 0
    run = BulkRun(request, parsed)
    run.prepare()
    run.check_budget(server.maxPageSize)
    await charge_bulk(request, len(parsed.entries))
    spent = budgets.current()
    parts: list[bytes] = []
    stream: web.StreamResponse | None = None
    if IDEMPOTENCY_HEADER not in request.headers:
        # Streamed: each entry's answer leaves as soon as those before it have, so a large
        # bulk never sits in memory whole (nor twice, as a list and as its encoded body). A
        # keyed call is answered whole, since its answer is kept for replay.
        stream = web.StreamResponse(status=200)
        stream.headers["Content-Type"] = JSON_TYPE
        await stream.prepare(request)
    count = 0
    gone = False

    async def emit(result: EntryResult) -> None:
        nonlocal count, gone
        part = (b"," if count else b"[") + dumps(result.as_json())
        count += 1
        if spent is not None:
            spent.sent(len(part))  # once over, the entries not yet run answer 413
        if stream is None:
            parts.append(part)
        elif not gone:
            try:
                await stream.write(part)
            except ConnectionResetError:
                # The consumer went away: the gateway/http/lifecycle.py rules decide what
                # still runs (writes already sent finish); there is no one to write to.
                gone = True

    run.emit = emit
    await run.run()
    st.extra["bulk_chunks"] = run.stats.chunks
    tail = b"]" if count else b"[]"
    if stream is None:
        resp = web.Response(body=b"".join(parts) + tail, status=200)
        resp.headers["Content-Type"] = JSON_TYPE
        return resp
    if not gone:
        try:
            await stream.write(tail)
            await stream.write_eof()
        except ConnectionResetError:
            pass
    return stream
