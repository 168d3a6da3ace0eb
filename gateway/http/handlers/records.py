"""Records endpoints (spec §3, §4): request → command → the records service → envelope.

Reads (both query forms and one record) carry a strong ``ETag`` of their bytes and say in
``Cache-Control`` whether they may be reused (``private, max-age=<ttl>`` where the source
caches them, with ``Age`` on a kept answer; ``private, no-cache`` elsewhere). An
``If-None-Match`` naming the answer's ETag (or ``*``) gets 304 with no body, on ``POST …/query``
too, since a query is a read. A request's own ``Cache-Control: no-cache`` (or ``max-age=0``)
asks for an answer from the backend, not the cache.
"""

from __future__ import annotations

from typing import Any

from aiohttp import hdrs, web

from gateway.http.envelope import JSON_TYPE, json_response
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
    "respond_read",
    "update_record",
]

NOT_CACHED = "private, no-cache"


async def read_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why not (too large is 413, while reading)."""
    return object_body(await request.read())


def caller(request: web.Request) -> Caller:
    st = state(request)
    return Caller(st.consumer, st.org)


def respond(answer: Answer) -> web.Response:
    return json_response(answer.body, answer.status)


def _fresh(request: web.Request) -> bool:
    """The caller asked for an answer from the backend (``no-cache``, ``max-age=0``)."""
    asked = request.headers.get(hdrs.CACHE_CONTROL)
    if asked is None:
        return False
    directives = {d.strip().lower() for d in asked.split(",")}
    return "no-cache" in directives or "max-age=0" in directives


def _not_modified(request: web.Request, etag: str) -> bool:
    """``If-None-Match`` names this answer (weak comparison, as RFC 9110 asks for it)."""
    tags = request.headers.getall(hdrs.IF_NONE_MATCH, ())
    for header in tags:
        for tag in header.split(","):
            tag = tag.strip()
            if tag == "*" or tag.removeprefix("W/") == etag:
                return True
    return False


def respond_read(request: web.Request, answer: Answer) -> web.Response:
    """A read's answer with its validators: 200 with the bytes, or 304 without them."""
    assert answer.raw is not None and answer.etag is not None
    headers = {
        hdrs.ETAG: answer.etag,
        hdrs.CACHE_CONTROL: NOT_CACHED if answer.max_age is None
        else f"private, max-age={answer.max_age}",
        # A browser's cache must not hand one API key's answer to another.
        hdrs.VARY: "Authorization",
    }
    if answer.age:
        headers[hdrs.AGE] = str(answer.age)
    if hdrs.IF_NONE_MATCH in request.headers and _not_modified(request, answer.etag):
        return web.Response(status=304, headers=headers)
    headers[hdrs.CONTENT_TYPE] = JSON_TYPE
    return web.Response(body=answer.raw, status=answer.status, headers=headers)


def _where(request: web.Request) -> tuple[str, str]:
    return request.match_info["source"], request.match_info["entity"]


async def query_post(request: web.Request) -> web.Response:
    body = await read_object(request)
    cmd = Query(caller(request), *_where(request), body=body)
    return respond_read(request, await request.app[RECORDS].query(cmd, fresh=_fresh(request)))


async def query_get(request: web.Request) -> web.Response:
    params = plain_params(request.query)
    cmd = Query(caller(request), *_where(request), params=params)
    return respond_read(request, await request.app[RECORDS].query(cmd, fresh=_fresh(request)))


async def get_record(request: web.Request) -> web.Response:
    params = plain_params(request.query, GET_ONE_PARAMS)
    cmd = Get(caller(request), *_where(request), request.match_info["id"], params)
    return respond_read(request, await request.app[RECORDS].get(cmd, fresh=_fresh(request)))


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
