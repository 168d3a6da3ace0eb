"""Records endpoints (spec §3, §4): query, get, create, update, delete via the org's connector."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from gateway.addresses import check_id
from gateway.connector import Connector, EntityInfo, Record
from gateway.errors import Detail, InvalidRequest
from gateway.http.envelope import ok, page
from gateway.http.keys import CONFIG, METRICS, SOURCES, state
from gateway.query.execute import project, run_query
from gateway.query.limits import nesting_depth
from gateway.query.parse import parse_body, parse_params
from gateway.related import check_query, cut_related
from gateway.sources import Source

__all__ = [
    "MAX_BODY_DEPTH",
    "create_record",
    "delete_record",
    "get_record",
    "query_get",
    "query_post",
    "read_object",
    "update_record",
]

# Parameters every /v1 call may carry; they are the middlewares' business, not the parser's.
ENVELOPE_PARAMS = frozenset({"orgId", "locale"})
GET_ONE_PARAMS = frozenset({"fields"})
MAX_BODY_DEPTH = 64  # JSON nesting in a request body


def _bad(path: str, msg_key: str, msg: str, **params: Any) -> InvalidRequest:
    return InvalidRequest(
        msg, key=msg_key, params=params, details=[Detail(path, msg, msg_key, params)]
    )


async def read_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why not (too large is 413, while reading)."""
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as exc:
        raise _bad("body", "bad_json", f"Not valid JSON: {exc}", error=str(exc)) from None
    if not isinstance(body, dict):
        raise _bad("body", "body_not_object", "The request body must be a JSON object")
    if nesting_depth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
        # orjson reads 1024 levels but writes only 255: a record nested that deep would fail
        # on its way to the backend, as a 500. No record or bulk body needs this many.
        raise _bad("body", "too_deep", f"Lists and objects nest deeper than {MAX_BODY_DEPTH} "
                   "levels", max=MAX_BODY_DEPTH)
    return body


def _params(request: web.Request, allowed: frozenset[str] | None = None) -> dict[str, str]:
    """The query-string parameters other than orgId/locale, each given once."""
    out: dict[str, str] = {}
    for key in request.query:
        if key in ENVELOPE_PARAMS:
            continue
        values = request.query.getall(key)
        if len(values) > 1:
            raise _bad(key, "duplicate_param", f"The parameter {key} is given more than once")
        if allowed is not None and key not in allowed:
            raise _bad(key, "unknown_key", f"Unknown key '{key}'", key=key)
        out[key] = values[0]
    return out


async def _target(
    request: web.Request, *, record: bool = False
) -> tuple[Source, Connector, EntityInfo]:
    """The source, the org's connector and the described entity (404 for either unknown);
    with ``record``, the path's id is first checked against the connector's id shape (400)."""
    source = request.app[SOURCES].get(request.match_info["source"])
    conn = source.connector(state(request).org)
    if record:
        check_id(conn, source.name, request.match_info["id"], metrics=request.app[METRICS])
    with source.observe():
        info = await conn.describe(request.match_info["entity"])
    return source, conn, info


async def _visible(
    request: web.Request, source: Source, conn: Connector, info: EntityInfo, *records: Record
) -> list[Record]:
    """The records as this consumer may see them: related records of entities its scopes do
    not allow are cut to their ids (``gateway/related.py``)."""
    return await cut_related(list(records), state(request).consumer, source.name, info,
                             conn.describe)


def _check_fields(data: Record, info: EntityInfo) -> None:
    """Unknown fields in a write are refused rather than silently dropped by a backend."""
    if not info.fields:
        return
    unknown = [k for k in data if k != "id" and k not in info.fields]
    if unknown:
        details = [
            Detail(k, f"Unknown field '{k}' in {info.name}", "unknown_field",
                   {"field": k, "entity": info.name})
            for k in unknown
        ]
        raise InvalidRequest(f"{unknown[0]}: unknown field in {info.name}", details=details)


async def query_post(request: web.Request) -> web.Response:
    body = await read_object(request)
    source, conn, info = await _target(request)
    server = request.app[CONFIG].server
    q = parse_body(body, max_page_size=server.maxPageSize, entity=info)
    await check_query(q, state(request).consumer, source.name, info, conn.describe)
    with source.observe():
        result = await run_query(conn, info, q, max_scan=server.maxScanRecords)
    records = await _visible(request, source, conn, info, *result.records)
    return page(records, page_no=q.page_no, page_size=q.page_size, total=result.total)


async def query_get(request: web.Request) -> web.Response:
    params = _params(request)
    source, conn, info = await _target(request)
    server = request.app[CONFIG].server
    q = parse_params(params, max_page_size=server.maxPageSize, entity=info)
    await check_query(q, state(request).consumer, source.name, info, conn.describe)
    with source.observe():
        result = await run_query(conn, info, q, max_scan=server.maxScanRecords)
    records = await _visible(request, source, conn, info, *result.records)
    return page(records, page_no=q.page_no, page_size=q.page_size, total=result.total)


async def get_record(request: web.Request) -> web.Response:
    params = _params(request, GET_ONE_PARAMS)
    source, conn, info = await _target(request, record=True)
    fields = None
    if "fields" in params:
        # The query parser owns what a valid `fields` is; reuse it rather than re-implement.
        fields = parse_params(
            {"fields": params["fields"]},
            max_page_size=request.app[CONFIG].server.maxPageSize, entity=info,
        ).fields
    with source.observe():
        record = await conn.get(info.name, request.match_info["id"], fields)
    (shown,) = await _visible(request, source, conn, info, project(record, fields))
    return ok(shown)


async def create_record(request: web.Request) -> web.Response:
    data = await read_object(request)
    source, conn, info = await _target(request)
    _check_fields(data, info)
    with source.observe():
        record = await conn.create(info.name, data)
    (shown,) = await _visible(request, source, conn, info, record)
    return ok(shown, status=201)


def _if_match(request: web.Request) -> str | None:
    value = request.headers.get("If-Match")
    if value is None or not value.strip() or value.strip() == "*":
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


async def update_record(request: web.Request) -> web.Response:
    """PATCH and PUT alike: the fields sent change, the others stay (spec §4)."""
    data = await read_object(request)
    record_id = request.match_info["id"]
    source, conn, info = await _target(request, record=True)
    version: str | None = None
    if "version" in data:
        raw = data.pop("version")
        if isinstance(raw, bool) or (raw is not None and not isinstance(raw, str | int)):
            raise _bad("version", "bad_value", "The version must be a string or an integer")
        version = None if raw is None else str(raw)
    header = _if_match(request)
    if header is not None:
        if version is not None and version != header:
            raise _bad("version", "version_mismatch",
                       "The version in the body differs from the If-Match header")
        version = header
    if "id" in data:
        if str(data.pop("id")) != record_id:
            raise _bad("id", "id_mismatch", "The id in the body differs from the id in the path")
    _check_fields(data, info)
    with source.observe():
        record = await conn.update(info.name, record_id, data, version)
    (shown,) = await _visible(request, source, conn, info, record)
    return ok(shown)


async def delete_record(request: web.Request) -> web.Response:
    record_id = request.match_info["id"]
    source, conn, info = await _target(request, record=True)
    with source.observe():
        await conn.delete(info.name, record_id)
    return ok({"id": record_id})
