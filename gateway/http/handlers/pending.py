"""Endpoints of the contract not served yet (bulk): a clear 422 ``unsupported``, not a 404.

A consumer that calls them learns that the gateway knows the endpoint and cannot do it today,
in its own locale, after the usual key, org and source checks. Each handler is replaced by the
real one when its feature lands.
"""

from __future__ import annotations

from aiohttp import web

from gateway.errors import Unsupported

__all__ = ["bulk"]


async def bulk(request: web.Request) -> web.StreamResponse:
    raise Unsupported(
        "POST /v1/bulk is not available yet", key="feature_pending",
        params={"feature": "bulk", "source": "*"},
    )
