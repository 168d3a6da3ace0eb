"""Discovery endpoints (spec §7): the sources a consumer may use, and an entity list with fields."""

from __future__ import annotations

from aiohttp import web

from gateway.http.handlers.records import caller, respond
from gateway.http.keys import RECORDS
from gateway.records import ListEntities, ListSources
from gateway.records.service import entity_json

__all__ = ["entity_json", "list_entities", "list_sources"]


async def list_sources(request: web.Request) -> web.Response:
    """Each source this consumer may use, with the health of the credentials its org uses
    there (checked when the last observation is stale) and the source's circuit breaker."""
    return respond(await request.app[RECORDS].list_sources(ListSources(caller(request))))


async def list_entities(request: web.Request) -> web.Response:
    cmd = ListEntities(caller(request), request.match_info["source"])
    return respond(await request.app[RECORDS].list_entities(cmd))
