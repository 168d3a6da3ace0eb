"""Who is calling: Bearer API key → Consumer (constant-time), then its org and scope checks.

A request with two ``Authorization`` headers is 400 ``invalid_request`` before any key is
looked up. Scopes (``consumers[].scopes``) are checked for every /v1 call, and by
:func:`check_scopes` for every bulk entry (``gateway/bulk/executor.py``): source, then
``source/entity``, then the operation the route performs (:data:`ROUTE_OPERATIONS`). A refusal
is 403 ``forbidden`` naming what is missing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from gateway.errors import Detail, Forbidden, InvalidRequest, Unauthorized
from gateway.http.keys import CONSUMERS, state
from gateway.http.middleware.headers import check_headers, single_header
from gateway.i18n import LOCALES, Message
from gateway.upstream.context import CONSUMER

if TYPE_CHECKING:
    from gateway.config.model import Consumer, Operation

__all__ = [
    "ROUTE_OPERATIONS", "KeyRing", "check_scopes", "consumers_middleware", "is_public",
    "operation_of", "unknown_locale",
]

API_PREFIX = "/v1"

# Route name (gateway/http/routes.py) → the operation a scope must allow. Queries are reads
# whatever their method; file uploads are writes. A route missing here needs no operation.
ROUTE_OPERATIONS: dict[str, Operation] = {
    "records.query": "read",
    "records.query_get": "read",
    "records.get": "read",
    "records.export": "read",
    "files.get": "read",
    "sources.list": "read",
    "sources.entities": "read",
    "records.create": "write",
    "records.update": "write",
    "records.put": "write",
    "files.put": "write",
    "records.delete": "delete",
    "files.delete": "delete",
    "bulk.run": "bulk",
}


def operation_of(request: web.Request) -> Operation | None:
    return ROUTE_OPERATIONS.get(request.match_info.route.name or "")


def is_public(path: str) -> bool:
    """Everything outside ``/v1`` (health, metrics, docs) needs no key."""
    return not (path == API_PREFIX or path.startswith(API_PREFIX + "/"))


class KeyRing:
    """The consumers' keys as SHA-256 digests, matched without early exit so timing says nothing
    about which key, or how much of one, matched."""

    def __init__(self, consumers: Sequence[Consumer]) -> None:
        self._entries = [(bytes.fromhex(c.key_sha256), c) for c in consumers]

    def find(self, api_key: str) -> Consumer | None:
        digest = hashlib.sha256(api_key.encode()).digest()
        found: Consumer | None = None
        for expected, consumer in self._entries:
            if hmac.compare_digest(expected, digest) and found is None:
                found = consumer
        return found


def _bearer(request: web.Request) -> str | None:
    # Two keys in one request: which one a proxy or a log saw is anyone's guess, so neither.
    header = single_header(request, hdrs.AUTHORIZATION) or ""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _org(request: web.Request) -> str:
    values = [v.strip() for v in request.query.getall("orgId", [])]
    if not values or not values[0]:
        raise InvalidRequest("missing_org", details=[Detail("orgId", "missing_org")])
    if len(set(values)) > 1:
        params = {"name": "orgId"}
        raise InvalidRequest("duplicate_param", params,
                             details=[Detail("orgId", "duplicate_param", params)])
    return values[0]


@web.middleware
async def consumers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who calls and what it may do; then, as one layer rather than three, the request-header
    checks (``headers.py``, every route) and the caller made known to the upstream policies
    for the request's life (public routes: no backend call is charged to anyone)."""
    if is_public(request.path):
        check_headers(request)
        return await handler(request)
    st = state(request)
    api_key = _bearer(request)
    if api_key is None:
        raise Unauthorized("missing_api_key")
    consumer = request.app[CONSUMERS].find(api_key)
    if consumer is None:
        raise Unauthorized("unknown_api_key")
    st.consumer = consumer
    structlog.contextvars.bind_contextvars(consumer=consumer.name)
    if st.locale_asked is not None:
        raise unknown_locale(st.locale_asked)
    org = _org(request)
    if not consumer.allows_org(org):
        raise Forbidden("org_not_allowed", {"org": org})
    st.org = org
    structlog.contextvars.bind_contextvars(org=org)
    _check_scopes(request, consumer)
    check_headers(request)
    # Each source's bulkhead charges the slots a request takes to its consumer, so one consumer
    # fills only its own share (maxInFlightPerConsumer); it reads who calls from CONSUMER. Bulk
    # entries run inside their bulk call's request and are charged to the same consumer.
    token = CONSUMER.set(consumer.name)
    try:
        return await handler(request)
    finally:
        CONSUMER.reset(token)


def unknown_locale(asked: str) -> InvalidRequest:
    params = {"locale": asked, "locales": ", ".join(LOCALES)}
    return InvalidRequest("unknown_locale", params,
                          details=[Detail("locale", "unknown_locale", params)])


def _check_scopes(request: web.Request, consumer: Consumer) -> None:
    match = request.match_info
    check_scopes(consumer, match.get("source"), match.get("entity"), operation_of(request))


def check_scopes(
    consumer: Consumer, source: str | None, entity: str | None, operation: Operation | None
) -> None:
    """403 naming what the consumer's scopes do not allow: the source, then the entity, then
    the operation (a call alone and a bulk entry are checked by this same function)."""
    if source is not None:
        if not consumer.allows_source(source):
            raise Forbidden("source_not_allowed", {"source": source})
        if entity is not None and not consumer.allows_entity(source, entity):
            raise Forbidden("entity_not_allowed", {"entity": f"{source}/{entity}"})
    if operation is not None and not consumer.allows_operation(operation):
        allowed = ", ".join(consumer.scopes.operations or ()) or Message("no_operations")
        raise Forbidden("operation_not_allowed", {"operation": operation, "allowed": allowed})
