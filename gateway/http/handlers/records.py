"""Records endpoints (spec §3, §4): request → command → the records service → envelope."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.http.envelope import json_response
from gateway.http.keys import RECORDS, state
from gateway.records import Answer, Caller, Create, Delete, Get, Query, Update
from gateway.records.commands import GET_ONE_PARAMS, MAX_BODY_DEPTH, object_body, plain_params

__all__ = [
    "MAX_BODY_DEPTH",
    "caller",
    "create_record",
    "delete_record",
    "get_record",
    "query_get",
    "query_post",
    "read_object",
    "respond",
    "update_record",
]


async def read_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why not (too large is 413, while reading)."""
    return object_body(await request.read())


def caller(request: web.Request) -> Caller:
    st = state(request)
    return Caller(st.consumer, st.org)


def respond(answer: Answer) -> web.Response:
    return json_response(answer.body, answer.status)


def _where(request: web.Request) -> tuple[str, str]:
    return request.match_info["source"], request.match_info["entity"]


async def query_post(request: web.Request) -> web.Response:
    body = await read_object(request)
    cmd = Query(caller(request), *_where(request), body=body)
    return respond(await request.app[RECORDS].query(cmd))


async def query_get(request: web.Request) -> web.Response:
    params = plain_params(request.query)
    cmd = Query(caller(request), *_where(request), params=params)
    return respond(await request.app[RECORDS].query(cmd))


async def get_record(request: web.Request) -> web.Response:
    params = plain_params(request.query, GET_ONE_PARAMS)
    cmd = Get(caller(request), *_where(request), request.match_info["id"], params)
    return respond(await request.app[RECORDS].get(cmd))


async def create_record(request: web.Request) -> web.Response:
    data = await read_object(request)
    return respond(await request.app[RECORDS].create(Create(caller(request), *_where(request),
                                                            data)))


async def update_record(request: web.Request) -> web.Response:
    """PATCH and PUT alike: the fields sent change, the others stay (spec §4)."""
    data = await read_object(request)
    cmd = Update(caller(request), *_where(request), request.match_info["id"], data,
                 request.headers.get("If-Match"))
    return respond(await request.app[RECORDS].update(cmd))


async def delete_record(request: web.Request) -> web.Response:
    cmd = Delete(caller(request), *_where(request), request.match_info["id"])
    return respond(await request.app[RECORDS].delete(cmd))
