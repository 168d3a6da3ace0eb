"""Export endpoint (spec §11): the walk of ``gateway/export.py`` streamed as NDJSON or CSV.

Everything that can go wrong before the first page is read (parameters, scopes, the source,
the entity, the first backend call) is raised, so the errors middleware answers the ordinary
envelope. Once the status line is out:

- NDJSON ends with the control line ``{"_export": {"complete": true, "count": N}}``, or on a
  failure ``{"_export": {"complete": false, "count": N, "error": <envelope>}}``;
- CSV has no room for a control line: a failure closes the connection before the terminating
  chunk, so the client sees an incomplete chunked body, never a short file taken for whole.

Each page is written (and drained: ``StreamResponse.write`` waits while the socket's buffer is
full) before the next backend call, so memory holds one page whatever the record count; a
client that goes away makes the next write raise and the walk ends there.
"""

from __future__ import annotations

import csv
import io
from contextlib import AsyncExitStack
from typing import Any

import orjson
import structlog
from aiohttp import hdrs, web

from gateway.connector import Record
from gateway.errors import GatewayError
from gateway.export import EXPORT_PARAMS, Export, open_export, scan_slot
from gateway.http.envelope import dumps, error_body
from gateway.http.keys import CONFIG, SOURCES, state
from gateway.http.middleware.consumers import check_scopes
from gateway.http.middleware.errors import as_error
from gateway.records.commands import plain_params

__all__ = ["export"]

log = structlog.get_logger("gateway.export")

CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def _cell(value: Any) -> str:
    """One CSV cell: null empty, booleans true/false, objects and lists as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return dumps(value).decode()


def csv_rows(rows: list[list[str]]) -> bytes:
    """Rows in RFC 4180 form (CRLF line ends, quotes doubled) by the csv module."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def encode(exp: Export, records: list[Record]) -> bytes:
    if exp.format == "csv":
        return csv_rows([[_cell(r.get(c)) for c in exp.columns] for r in records])
    return b"".join(dumps(r) + b"\n" for r in records)


def control(count: int, error: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"complete": error is None, "count": count}
    if error is not None:
        body["error"] = error
    return orjson.dumps({"_export": body}) + b"\n"


def _bytes_budget(n: int) -> None:
    """Charge ``n`` bytes of the answer; 413 once responseBytesPerRequest is crossed."""
    from gateway import budgets

    spent = budgets.current()
    if spent is not None and spent.sent(n):
        limit = spent.limits.responseBytesPerRequest
        spent.refused("responseBytesPerRequest")
        raise budgets.BudgetExceeded("responseBytesPerRequest", limit, spent.bytes)


async def export(request: web.Request) -> web.StreamResponse:
    params = plain_params(request.query, EXPORT_PARAMS)
    st = state(request)
    source, entity = request.match_info["source"], request.match_info["entity"]
    if st.consumer is not None:  # an export is a read, whatever the route table's operations
        check_scopes(st.consumer, source, entity, "read")
    exp = await open_export(request.app[SOURCES], request.app[CONFIG].server, st.consumer,
                            st.org, source, entity, params)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(scan_slot())
        pages = exp.pages()
        stack.push_async_callback(pages.aclose)  # type: ignore[attr-defined]
        first = await anext(pages, None)  # a failure here is still an envelope
        resp = web.StreamResponse(headers={
            hdrs.CONTENT_TYPE: CONTENT_TYPES[exp.format],
            hdrs.CACHE_CONTROL: "no-store",
            "X-Content-Type-Options": "nosniff",
        })
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        count = 0
        try:
            if exp.format == "csv":
                head = csv_rows([list(exp.columns)])
                _bytes_budget(len(head))
                await resp.write(head)
            page = first
            while page is not None:
                chunk = encode(exp, page)
                _bytes_budget(len(chunk))
                await resp.write(chunk)
                count += len(page)
                page = await anext(pages, None)
            if exp.format == "ndjson":
                await resp.write(control(count))
            await resp.write_eof()
        except ConnectionError:
            log.info("export_aborted", reason="client_gone", count=count,
                     backend_calls=exp.calls)
            st.extra["error"] = "client_gone"
            return resp
        except Exception as exc:
            err = as_error(exc)
            st.extra["error"] = err.error
            log.info("export_failed", error=err.error, count=count, backend_calls=exp.calls)
            await _end_failed(request, resp, exp, count, err)
        st.extra["exported"] = count
        st.extra["export_strategy"] = exp.strategy
        return resp


async def _end_failed(request: web.Request, resp: web.StreamResponse, exp: Export, count: int,
                      err: GatewayError) -> None:
    """After the status line: NDJSON says so in its control line; CSV is cut short."""
    st = state(request)
    if exp.format == "ndjson":
        try:
            await resp.write(control(count, error_body(err, locale=st.locale,
                                                       request_id=st.request_id)))
            await resp.write_eof()
            return
        except ConnectionError:
            return
    if request.transport is not None:
        request.transport.close()
