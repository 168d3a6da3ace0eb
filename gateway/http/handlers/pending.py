"""Endpoints of the contract not served yet (files, bulk): a clear 422 ``unsupported``, not a 404.

A consumer that calls them learns that the gateway knows the endpoint and cannot do it today,
in its own locale, after the usual key, org and source checks. Each handler is replaced by the
real one when its feature lands.
"""

from __future__ import annotations

from aiohttp import web

from gateway.errors import Unsupported
from gateway.http.keys import SOURCES

__all__ = ["bulk", "record_file"]


async def record_file(request: web.Request) -> web.StreamResponse:
    source = request.app[SOURCES].get(request.match_info["source"])
    raise Unsupported(
        f"Files on record fields are not available on source {source.name} yet",
        key="feature_pending", params={"feature": "files", "source": source.name},
    )


async def bulk(request: web.Request) -> web.StreamResponse:
    raise Unsupported(
        "POST /v1/bulk is not available yet", key="feature_pending",
        params={"feature": "bulk", "source": "*"},
    )
