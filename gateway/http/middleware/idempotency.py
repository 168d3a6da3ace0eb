"""Idempotency-Key on writes: the first answer is kept 24 h and replayed for a repeat.

A write (create, update, delete, file upload or removal, ``POST /v1/bulk``) sent with an
``Idempotency-Key`` header is run once per key. The key is scoped by consumer, org, method and
path; the request is fingerprinted by SHA-256 over its body and what else changes its meaning
(query string but ``locale``, ``Content-Type``, ``If-Match``).

* first call: the key is reserved in the state store (``set_if_absent``), the call runs, and its
  answer (status, headers, body) is stored for 24 h;
* a repeat with the same fingerprint gets the stored answer byte for byte, with
  ``Idempotent-Replayed: true``;
* a repeat with another fingerprint: 409 ``conflict`` (``idempotency_key_mismatch``);
* a repeat while the first still runs: 409 ``conflict`` (``idempotency_key_in_progress``) with
  ``Retry-After``;
* a key longer than 255 characters, empty, repeated or not printable ASCII: 400.

What is not kept, so the same key may be sent again: 429 answers, and 5xx answers that say the
write did not happen or was refused (nothing sent, the backend's own 5xx). A 5xx whose outcome is
unknown (the answer was lost or unreadable after the call went out) is kept: repeating it could
write twice, so the client must look before it writes again under a new key. Reads ignore the
header; a bulk call's key covers its entries (theirs are ignored).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass

import orjson
import structlog
from aiohttp import hdrs, web
from aiohttp.streams import StreamReader
from aiohttp.typedefs import Handler

from gateway.errors import BackendFailure, Conflict, Detail, GatewayError, InvalidRequest
from gateway.http.keys import BULK_ENTRY, STORE, state
from gateway.http.middleware.errors import errors_middleware
from gateway.state import StateStore, StateUnavailable
from gateway.upstream.context import CALL_STATS

__all__ = [
    "HEADER",
    "IDEMPOTENT_ROUTES",
    "MAX_KEY_LENGTH",
    "REPLAYED_HEADER",
    "TTL",
    "idempotency_middleware",
]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TTL = 24 * 3600.0  # seconds an answer is kept
# How long a reservation outlives a process that died while running its call; until then a
# repeat is told to wait (409 + Retry-After) rather than risk a second write.
PENDING_TTL = 300.0
IN_PROGRESS_RETRY_AFTER = 1.0
BULK_ROUTE = "bulk.run"
log = structlog.get_logger("gateway.idempotency")
IDEMPOTENT_ROUTES = frozenset({
    "records.create", "records.update", "records.put", "records.delete",
    "files.put", "files.delete", BULK_ROUTE,
})
# Framing and per-answer headers: recomputed for the replayed answer, never stored.
_NOT_STORED = frozenset({
    "content-length", "transfer-encoding", "connection", "date", "server", "x-request-id",
    "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after",
})


def _bad_key(msg: str, key: str, **params: object) -> InvalidRequest:
    return InvalidRequest(msg, key=key, params=dict(params),
                          details=[Detail(HEADER, msg, key, dict(params))])


def _key(request: web.Request) -> str | None:
    values = request.headers.getall(HEADER, [])
    if not values:
        return None
    if len(values) > 1:
        raise _bad_key(f"The {HEADER} header is given more than once",
                       "idempotency_key_repeated")
    key = values[0].strip()
    if not key:
        raise _bad_key(f"The {HEADER} header is empty", "idempotency_key_empty")
    if len(key) > MAX_KEY_LENGTH:
        raise _bad_key(f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters",
                       "idempotency_key_too_long", max=MAX_KEY_LENGTH)
    if not key.isascii() or not key.isprintable():
        raise _bad_key(f"The {HEADER} header must be printable ASCII",
                       "idempotency_key_invalid")
    return key


def _fingerprint(request: web.Request, body: bytes) -> str:
    digest = hashlib.sha256()
    query = sorted((k, v) for k, v in request.query.items() if k != "locale")
    for part in (orjson.dumps(query), request.headers.get(hdrs.CONTENT_TYPE, "").encode(),
                 request.headers.get(hdrs.IF_MATCH, "").encode()):
        digest.update(hashlib.sha256(part).digest())
    digest.update(body)
    return digest.hexdigest()


def _store_key(request: web.Request, key: str) -> str:
    st = state(request)
    assert st.consumer is not None  # /v1 writes only, behind the consumers middleware
    scope = "\0".join((st.consumer.name, st.org or "", request.method, request.path, key))
    # Hashed: a fixed-length store key, whatever the client's key and path hold.
    return "idem:" + hashlib.sha256(scope.encode()).hexdigest()


def _replay_stream(request: web.Request, body: bytes) -> StreamReader:
    """A fresh payload holding ``body``, for handlers that stream (file uploads)."""
    reader = StreamReader(request.protocol, max(len(body), 2**16),
                          loop=asyncio.get_running_loop())
    if body:
        reader.feed_data(body)
    reader.feed_eof()
    return reader


@dataclass(slots=True)
class _Outcome:
    error: GatewayError | None = None


def _keep(resp: web.StreamResponse, outcome: _Outcome) -> bool:
    if not isinstance(resp, web.Response) or not isinstance(resp.body, bytes):
        return False
    if resp.status == 429:
        return False
    if resp.status < 500:
        return True
    err = outcome.error
    if not isinstance(err, BackendFailure) or err.sent is False:
        return False
    status = err.source.status if err.source is not None else None
    return status is None or status < 400  # no answer, or one we could not read


def _record(fingerprint: str, resp: web.Response) -> bytes:
    assert isinstance(resp.body, bytes)
    headers = [[k, v] for k, v in resp.headers.items() if k.lower() not in _NOT_STORED]
    return orjson.dumps({"fp": fingerprint, "status": resp.status, "headers": headers,
                         "body": base64.b64encode(resp.body).decode()})


def _replay(record: dict[str, object]) -> web.Response:
    resp = web.Response(status=int(str(record["status"])),
                        body=base64.b64decode(str(record["body"])))
    headers = record["headers"]
    assert isinstance(headers, list)
    for name, value in headers:
        resp.headers.add(name, value)
    resp.headers[REPLAYED_HEADER] = "true"
    return resp


def _in_progress() -> Conflict:
    return Conflict(
        f"A request with this {HEADER} is still being processed; retry shortly",
        key="idempotency_key_in_progress", retry_after=IN_PROGRESS_RETRY_AFTER,
    )


async def _existing(store: StateStore, skey: str, fingerprint: str) -> web.Response | None:
    """The stored answer to replay; None when the key is free again (expired meanwhile)."""
    raw = await store.get(skey)
    if raw is None:
        return None
    record = orjson.loads(raw)
    if record.get("fp") != fingerprint:
        raise Conflict(
            f"This {HEADER} was already used with a different request; use a new key",
            key="idempotency_key_mismatch",
            details=[Detail(HEADER, "used before with a different request",
                            "idempotency_key_mismatch")],
        )
    if "status" not in record:
        raise _in_progress()
    return _replay(record)


async def _run(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (request.match_info.route.name or "") != BULK_ROUTE:
        return await handler(request)
    token = BULK_ENTRY.set(True)  # the entries' tasks inherit it
    try:
        return await handler(request)
    finally:
        BULK_ENTRY.reset(token)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name or ""
    key = None if BULK_ENTRY.get() or route not in IDEMPOTENT_ROUTES else _key(request)
    if key is None:
        return await _run(request, handler)
    store = request.app[STORE]
    # aiohttp clones only an unread request (the bulk handler clones its own): clone first,
    # then read the body once and give the clone a payload that replays it.
    fresh = request.clone()
    body = await request.read()
    fresh._payload = _replay_stream(request, body)
    fingerprint = _fingerprint(request, body)
    skey = _store_key(request, key)
    pending = orjson.dumps({"fp": fingerprint})
    for _ in range(2):  # a record that expires between the two calls frees the key
        if await store.set_if_absent(skey, pending, PENDING_TTL):
            break
        stored = await _existing(store, skey, fingerprint)
        if stored is not None:
            state(request).extra["idempotent_replay"] = True
            return stored
    else:
        raise _in_progress()

    outcome = _Outcome()

    async def noting(req: web.Request) -> web.StreamResponse:
        try:
            return await _run(req, handler)
        except GatewayError as err:
            outcome.error = err
            raise

    try:
        # Rendered here by the one error renderer, so an error answer is kept like any other.
        resp = await errors_middleware(fresh, noting)
    except BaseException:
        stats = CALL_STATS.get()
        if stats is None or stats.calls == 0:  # nothing reached a backend: free to try again
            await asyncio.shield(store.delete(skey))
        raise
    try:
        if _keep(resp, outcome):
            assert isinstance(resp, web.Response)
            await store.set(skey, _record(fingerprint, resp), TTL)
        else:
            await store.delete(skey)
    except StateUnavailable:
        # The call ran: its answer goes out. The reservation stays until it expires, so a
        # repeat meanwhile is told to wait, never run twice.
        log.warning("idempotency_record_lost", reason="state store unavailable")
    return resp
