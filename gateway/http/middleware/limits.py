"""Limits on what a caller sends and makes the gateway do: bodies over ``server.maxBodyBytes``
are 413; calls over the consumer's rate limit are 429; each request gets its budgets
(``gateway/budgets.py``).

The rate limit is a token bucket per consumer (``consumers[].rateLimit``, else
``server.rateLimit``) kept in the state store, so replicas sharing Redis share the bucket. Every
/v1 answer to a limited consumer carries ``RateLimit-Limit`` (the bucket size),
``RateLimit-Remaining`` (whole calls left now) and ``RateLimit-Reset`` (seconds until the bucket
is full again), as in the IETF httpapi RateLimit header fields draft; a refusal adds
``Retry-After`` (seconds until one call fits). Rate limits charge for the work: a bulk call
costs one token here and, once its body is read, one more per entry beyond the first
(:func:`charge_bulk`), at most the bucket's size; its entries are not charged again. When the
state store cannot be reached the call is let through and a warning logged: a limiter outage
must not become an API outage.

Budgets: a request (not a bulk entry, which shares its bulk call's) gets a
:class:`~gateway.budgets.RequestBudget` in :data:`~gateway.budgets.BUDGET`, from the consumer's
``budgets`` laid over ``server.budgets``. A call that is not a query is charged one backend call
to the consumer's calls-per-second budget here; a query charges each of its calls as it makes
them (``gateway/query/execute.py``).
"""

from __future__ import annotations

import math

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.budgets import BUDGET, SCANS, RequestBudget
from gateway.config.budgets import BudgetOverrides, Budgets
from gateway.errors import PayloadTooLarge, RateLimited
from gateway.http.keys import CONFIG, METRICS, STATE, STORE, state
from gateway.state import BucketGrant, StateUnavailable

__all__ = [
    "STREAMED_ROUTE_PREFIX",
    "add_limit_headers",
    "charge_bulk",
    "charge_call",
    "limits_middleware",
    "rate_headers",
    "too_large",
]

# Routes named with this prefix stream their body to a backend (file uploads) and enforce their
# own limit while streaming; the JSON body limit does not apply to them.
STREAMED_ROUTE_PREFIX = "files."
BULK_ROUTE = "bulk.run"
# Routes that charge their backend calls one by one as the query makes them.
# Routes that charge their backend calls as they make them (a query's plan, an export's walk).
QUERY_ROUTES = frozenset({"records.query", "records.query_get", "records.export"})

log = structlog.get_logger("gateway.limits")


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge("body_too_large", {"max": limit})


def rate_headers(grant: BucketGrant) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(grant.limit),
        "RateLimit-Remaining": str(grant.remaining),
        "RateLimit-Reset": str(math.ceil(grant.reset)),
    }


async def _rate_limit(request: web.Request, cost: int = 1, *, paid: int = 0) -> None:
    """Take ``cost`` more tokens from the consumer's bucket for a call that already took
    ``paid``; a call never costs more than the bucket holds (so it needs a full bucket)."""
    st = state(request)
    consumer = st.consumer
    if consumer is None:
        return
    limit = consumer.rateLimit or request.app[CONFIG].server.rateLimit
    if limit is None:
        return
    cost = min(cost, limit.size - paid)
    if cost <= 0:
        return
    try:
        grant = await request.app[STORE].take(
            f"rate:{consumer.name}", limit.requestsPerSecond, limit.size, cost
        )
    except StateUnavailable:
        log.warning("rate_limit_skipped", reason="state store unavailable")
        return
    st.headers.update(rate_headers(grant))
    if not grant.allowed:
        wait = max(1, math.ceil(grant.retry_after))
        raise RateLimited("consumer_rate_limited", {"consumer": consumer.name, "seconds": wait},
                          retry_after=wait)


async def charge_bulk(request: web.Request, entries: int) -> None:
    """A bulk call's work, once its entries are counted: one rate-limit token per entry beyond
    the one the call already paid, and its entries against the consumer's entries-per-minute
    budget (429 when either is out; 413 for a bulk larger than a minute's worth)."""
    budget = BUDGET.get()
    if budget is not None:
        await budget.take_bulk_entries(entries)
    if entries > 1:
        await _rate_limit(request, entries - 1, paid=1)


# (consumer's overrides, server budgets) -> the budgets laid over: config models are frozen, so
# one lay-over per pair serves every request (pydantic's dump and copy cost ~20 us a request).
# Keyed by identity; each entry holds both objects, so an id cannot be reused while cached.
_LAID: dict[tuple[int, int], tuple[BudgetOverrides, Budgets, Budgets]] = {}
_LAID_MAX = 1024


def _limits(overrides: BudgetOverrides, base: Budgets) -> Budgets:
    key = (id(overrides), id(base))
    hit = _LAID.get(key)
    if hit is None:
        if len(_LAID) >= _LAID_MAX:  # configs reloaded over and over (tests): start afresh
            _LAID.clear()
        hit = _LAID[key] = (overrides, base, overrides.over(base))
    return hit[2]


def _budget(request: web.Request, route: str) -> RequestBudget | None:
    consumer = state(request).consumer
    if consumer is None:
        return None
    app = request.app
    return RequestBudget(
        _limits(consumer.budgets, app[CONFIG].server.budgets), consumer.name, app[STORE],
        app[SCANS], app[METRICS], bulk=route == BULK_ROUTE,
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
    budget = _budget(request, name)
    token = BUDGET.set(budget)
    try:
        await charge_call(budget, name)
        return await handler(request)
    finally:
        BUDGET.reset(token)


async def charge_call(budget: RequestBudget | None, route: str) -> None:
    """A call other than a query or a bulk is charged one backend call before it runs (a bulk
    entry too, to its bulk call's budget; its rate-limit token was taken by :func:`charge_bulk`)."""
    if budget is not None and route and route not in QUERY_ROUTES and route != BULK_ROUTE:
        budget.check_calls()
        await budget.take_calls()


async def add_limit_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the RateLimit-* headers on every answer, errors included."""
    st = request.get(STATE)
    if st is not None and st.headers:
        response.headers.update(st.headers)
