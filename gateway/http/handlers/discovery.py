"""Discovery endpoints (spec §7): the sources a consumer may use, and an entity list with fields."""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.connector import EntityInfo
from gateway.http.envelope import ok
from gateway.http.keys import CONFIG, SOURCES, state

__all__ = ["list_entities", "list_sources"]


def entity_json(info: EntityInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "label": info.label,
        "fields": [
            {"name": f.name, "type": f.type, "filterable": f.filterable, "sortable": f.sortable}
            for f in info.fields.values()
        ],
    }


async def list_sources(request: web.Request) -> web.Response:
    """Each source this consumer may use, with the health of the credentials its org uses
    there (checked when the last observation is stale) and the source's circuit breaker."""
    consumer = state(request).consumer
    assert consumer is not None  # the consumers middleware guards every /v1 route
    org = state(request).org
    timeout = request.app[CONFIG].server.readyTimeout
    sources = [s for s in request.app[SOURCES] if consumer.allows_source(s.name)]
    seen = await asyncio.gather(*(s.probe(org, timeout) for s in sources))
    return ok([
        {"name": s.name, "type": s.type, "health": h.health, "reason": h.reason,
         "circuit": h.circuit}
        for s, h in zip(sources, seen, strict=True)
    ])


async def list_entities(request: web.Request) -> web.Response:
    source = request.app[SOURCES].get(request.match_info["source"])
    conn = source.connector(state(request).org)
    with source.observe():
        entities = await conn.entities()
    consumer = state(request).consumer
    # Scopes may allow only some entities of a source: list only those.
    allowed = [e for e in entities
               if consumer is None or consumer.allows_entity(source.name, e.name)]
    return ok([entity_json(e) for e in allowed])
