"""Fairness: the calling consumer, made known to the upstream policies for the request's life.

Each source's bulkhead charges the slots a request takes to its consumer, so one consumer can
fill only its own share (``maxInFlightPerConsumer``); the bulkhead reads who is calling from
:data:`gateway.upstream.context.CONSUMER`, which this middleware sets once the consumers
middleware has matched the key. Bulk entries run inside their bulk call's request and are
charged to the same consumer.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.http.keys import state
from gateway.upstream.context import CONSUMER

__all__ = ["fairness_middleware"]


@web.middleware
async def fairness_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    consumer = state(request).consumer
    if consumer is None:  # public routes: no backend call is charged to anyone
        return await handler(request)
    token = CONSUMER.set(consumer.name)
    try:
        return await handler(request)
    finally:
        CONSUMER.reset(token)
