"""``explain=true`` on the query routes (spec §13): the plan instead of the records.

:func:`explaining` wraps a query handler in the route table; without ``explain`` (or with
``explain=false``) the request goes to that handler untouched.
"""

from __future__ import annotations

from functools import wraps

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiMapping

from gateway.http.handlers.records import caller, read_object, respond
from gateway.http.keys import RECORDS
from gateway.records import Query
from gateway.records.commands import bad_input, plain_params
from gateway.records.explain import explain

__all__ = ["explaining", "wants_explain"]

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def wants_explain(query: MultiMapping[str]) -> bool:
    """Whether the query string asks for the plan: ``explain`` true/false (or 1/0), at most
    once; anything else is a 400."""
    values = query.getall("explain", ())
    if not values:
        return False
    if len(values) > 1:
        raise bad_input("explain", "duplicate_param", name="explain")
    value = values[0].strip().lower()
    if value not in _TRUE and value not in _FALSE:
        raise bad_input("explain", "bad_explain")
    return value in _TRUE


def explaining(handler: Handler) -> Handler:
    """``handler`` (POST …/query or GET …/{entity}) answering the plan when asked."""

    @wraps(handler)
    async def handle(request: web.Request) -> web.StreamResponse:
        if "explain" not in request.query or not wants_explain(request.query):
            return await handler(request)
        where = request.match_info["source"], request.match_info["entity"]
        if request.method == "POST":
            cmd = Query(caller(request), *where, body=await read_object(request))
        else:
            params = plain_params(request.query)
            del params["explain"]
            cmd = Query(caller(request), *where, params=params)
        return respond(await explain(request.app[RECORDS], cmd))

    return handle
