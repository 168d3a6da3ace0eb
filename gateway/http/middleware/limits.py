"""Limits on what a caller sends: bodies over ``server.maxBodyBytes`` are 413; calls over the
consumer's rate limit are 429.

The rate limit is a token bucket per consumer (``consumers[].rateLimit``, else
``server.rateLimit``) kept in the state store, so replicas sharing Redis share the bucket. Every
/v1 answer to a limited consumer carries ``RateLimit-Limit`` (the bucket size),
``RateLimit-Remaining`` (whole calls left now) and ``RateLimit-Reset`` (seconds until the bucket
is full again), as in the IETF httpapi RateLimit header fields draft; a refusal adds
``Retry-After`` (seconds until one call fits). A bulk call costs one token, whatever its entry
count (its entries are not charged again). When the state store cannot be reached the call is
let through and a warning logged: a limiter outage must not become an API outage.
"""

from __future__ import annotations

import math

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.errors import PayloadTooLarge, RateLimited
from gateway.http.keys import BULK_ENTRY, CONFIG, STATE, STORE, state
from gateway.state import BucketGrant, StateUnavailable

__all__ = [
    "STREAMED_ROUTE_PREFIX",
    "add_limit_headers",
    "limits_middleware",
    "rate_headers",
    "too_large",
]

# Routes named with this prefix stream their body to a backend (file uploads) and enforce their
# own limit while streaming; the JSON body limit does not apply to them.
STREAMED_ROUTE_PREFIX = "files."

log = structlog.get_logger("gateway.limits")


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body is larger than {limit} bytes", key="body_too_large", params={"max": limit}
    )


def rate_headers(grant: BucketGrant) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(grant.limit),
        "RateLimit-Remaining": str(grant.remaining),
        "RateLimit-Reset": str(math.ceil(grant.reset)),
    }


async def _rate_limit(request: web.Request) -> None:
    st = state(request)
    consumer = st.consumer
    if consumer is None or BULK_ENTRY.get():
        return
    limit = consumer.rateLimit or request.app[CONFIG].server.rateLimit
    if limit is None:
        return
    try:
        grant = await request.app[STORE].take(
            f"rate:{consumer.name}", limit.requestsPerSecond, limit.size
        )
    except StateUnavailable:
        log.warning("rate_limit_skipped", reason="state store unavailable")
        return
    st.headers.update(rate_headers(grant))
    if not grant.allowed:
        wait = max(1, math.ceil(grant.retry_after))
        raise RateLimited(
            f"Rate limit of {consumer.name} exceeded; retry in {wait} s",
            key="consumer_rate_limited", params={"consumer": consumer.name, "seconds": wait},
            retry_after=wait,
        )


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse by the declared length before reading anything; a body sent without one (chunked)
    is cut off while reading by the app's ``client_max_size``, which the errors middleware
    renders as the same 413. Then the consumer's rate limit (public routes have no consumer)."""
    name = request.match_info.route.name or ""
    if not name.startswith(STREAMED_ROUTE_PREFIX):
        limit = request.app[CONFIG].server.maxBodyBytes
        length = request.content_length
        if length is not None and length > limit:
            raise too_large(limit)
    await _rate_limit(request)
    return await handler(request)


async def add_limit_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the RateLimit-* headers on every answer, errors included."""
    st = request.get(STATE)
    if st is not None and st.headers:
        response.headers.update(st.headers)
