"""Idempotency-Key on writes: the first answer is kept 24 h and replayed for a repeat.

A write (create, update, delete, file upload or removal, ``POST /v1/bulk``) sent with an
``Idempotency-Key`` header is run once per key. The key is scoped by consumer, org, method and
path; the request is fingerprinted by SHA-256 over its body and what else changes its meaning
(query string but ``locale``, ``Content-Type``, ``If-Match``). A JSON body is compared as parsed
JSON (keys sorted, whitespace dropped), so the same JSON serialized again is the same request.

* first call: the key takes a place in its consumer's quota (``idempotencyKeysPerConsumer``;
  past it 429 and nothing runs) and is reserved in the state store (``set_if_absent``; a full
  store answers 503 with ``Retry-After`` and nothing runs), the call runs, and its answer
  (status, headers, body) is stored for 24 h. The store never evicts it before then;
* a repeat with the same fingerprint gets the stored answer byte for byte, with
  ``Idempotent-Replayed: true``. Only write answers are kept whole: a bulk call keeps its read
  entries' statuses and headers, and replays a successful read entry with ``contents: null``;
* a repeat with another fingerprint: 409 ``conflict`` (``idempotency_key_mismatch``);
* a repeat while the first still runs: 409 ``conflict`` (``idempotency_key_in_progress``) with
  ``Retry-After``;
* a key longer than 255 characters, empty, repeated or not printable ASCII: 400.

What is not kept, so the same key may be sent again: 429 answers, refusals that ask to retry
before anything was written (a busy record's 409), and 5xx answers that say the write did not
happen or was refused (nothing sent, the backend's own 5xx). A 5xx whose outcome is unknown (the
answer was lost or unreadable after the call went out) is kept: repeating it could write twice,
so the client must look before it writes again under a new key. If even a compact answer finds
no room in the store, the key is kept as "ran, answer not kept": a repeat gets 409
(``idempotency_answer_not_kept``), never a second run. Reads ignore the header; a bulk call's
key covers its entries (theirs are ignored).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass

import orjson
import structlog
from aiohttp import hdrs, web
from aiohttp.streams import StreamReader
from aiohttp.typedefs import Handler

from gateway.errors import (
    BackendFailure,
    Conflict,
    Detail,
    GatewayError,
    InvalidRequest,
    RateLimited,
)
from gateway.http.keys import CONFIG, STORE, state
from gateway.http.middleware import kept
from gateway.http.middleware.errors import errors_middleware
from gateway.http.middleware.kept import REPLAYED_HEADER
from gateway.state import StateFull, StateStore, StateUnavailable
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
# Refusals that ask the client to come back with the same request (nothing was written).
_RETRY_LATER_KEYS = frozenset({"record_busy"})
# A reservation and its "ran, answer not kept" replacement have the same size, so the
# replacement never needs room a full store does not have.
_PENDING, _NOT_KEPT = "p", "u"


def _bad_key(key: str, **params: object) -> InvalidRequest:
    return InvalidRequest(key, params, details=[Detail(HEADER, key, params)])


def _key(request: web.Request) -> str | None:
    values = request.headers.getall(HEADER, [])
    if not values:
        return None
    if len(values) > 1:
        raise _bad_key("idempotency_key_repeated")
    key = values[0].strip()
    if not key:
        raise _bad_key("idempotency_key_empty")
    if len(key) > MAX_KEY_LENGTH:
        raise _bad_key("idempotency_key_too_long", max=MAX_KEY_LENGTH)
    if not key.isascii() or not key.isprintable():
        raise _bad_key("idempotency_key_invalid")
    return key


_RAW = object()  # a body compared as bytes


def _parsed(request: web.Request, body: bytes) -> object:
    """The body as JSON when it is JSON (declared so, or undeclared), else ``_RAW``."""
    media = request.headers.get(hdrs.CONTENT_TYPE, "").split(";")[0].strip().lower()
    if not body or (media not in ("", "application/json") and not media.endswith("+json")):
        return _RAW
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # the handler will say what is wrong; compare the bytes
        return _RAW


def _fingerprint(request: web.Request, body: bytes, parsed: object) -> str:
    digest = hashlib.sha256()
    query = sorted((k, v) for k, v in request.query.items() if k != "locale")
    for part in (orjson.dumps(query), request.headers.get(hdrs.CONTENT_TYPE, "").encode(),
                 request.headers.get(hdrs.IF_MATCH, "").encode()):
        digest.update(hashlib.sha256(part).digest())
    if parsed is _RAW:
        digest.update(b"raw\0" + body)
    else:
        digest.update(b"json\0" + orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS))
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
    err = outcome.error
    if err is not None and err.key in _RETRY_LATER_KEYS:
        return False
    if resp.status < 500:
        return True
    if not isinstance(err, BackendFailure) or err.sent is False:
        return False
    status = err.source.status if err.source is not None else None
    return status is None or status < 400  # no answer, or one we could not read


def _in_progress() -> Conflict:
    return Conflict("idempotency_key_in_progress", retry_after=IN_PROGRESS_RETRY_AFTER)


async def _existing(store: StateStore, skey: str, fingerprint: str) -> web.Response | None:
    """The stored answer to replay; None when the key is free again (expired meanwhile)."""
    raw = await store.get(skey)
    if raw is None:
        return None
    found = kept.decode(raw)
    if found.fp != fingerprint:
        raise Conflict("idempotency_key_mismatch",
                       details=[Detail(HEADER, "idempotency_key_used_before")])
    if found.state == _NOT_KEPT:
        raise Conflict("idempotency_answer_not_kept")
    if found.state != "a":
        raise _in_progress()
    return kept.replay(found)


class _Quota:
    """The consumer's place for one key in its quota of unexpired keys (a set in the store)."""

    def __init__(self, request: web.Request, store: StateStore, skey: str) -> None:
        st = state(request)
        assert st.consumer is not None
        self.consumer = st.consumer.name
        self.limit = request.app[CONFIG].state.idempotencyKeysPerConsumer
        self.key = "idemq:" + hashlib.sha256(self.consumer.encode()).hexdigest()
        self.store = store
        self.member = skey

    async def take(self, ttl: float) -> None:
        """A place for ``ttl`` seconds (a repeat of a key already placed takes no new one)."""
        seat = await self.store.join(self.key, self.member, ttl, self.limit)
        if not seat.joined:
            wait = max(1, math.ceil(seat.retry_after))
            raise RateLimited(
                "idempotency_quota", {"consumer": self.consumer, "limit": self.limit,
                                      "seconds": wait}, retry_after=wait)

    async def give_back(self) -> None:
        await self.store.leave(self.key, self.member)


async def _free(store: StateStore, skey: str, quota: _Quota) -> None:
    await store.delete(skey)
    await quota.give_back()


async def _save(store: StateStore, skey: str, fingerprint: str,
                resp: web.Response, reads: frozenset[int] | None) -> None:
    """Keep the answer (a bulk's read entries without their records); with no room for it, a
    bulk's statuses only; with no room for that either, the "ran, not kept" marker, which is
    the size of the reservation it replaces."""
    assert isinstance(resp.body, bytes)
    bodies = [resp.body] if reads is None else [kept.without_contents(resp.body, reads),
                                                 kept.without_contents(resp.body, None)]
    for body in bodies:
        try:
            await store.set(skey, kept.encode(fingerprint, resp, body), TTL)
            return
        except StateFull:
            continue
    log.warning("idempotency_answer_not_kept", reason="state store full", bytes=len(resp.body))
    await store.set(skey, kept.marker(fingerprint, _NOT_KEPT), TTL)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name or ""
    key = None if route not in IDEMPOTENT_ROUTES else _key(request)
    if key is None:
        return await handler(request)
    store = request.app[STORE]
    # aiohttp clones only an unread request (the bulk handler clones its own): clone first,
    # then read the body once and give the clone a payload that replays it.
    fresh = request.clone()
    body = await request.read()
    fresh._payload = _replay_stream(request, body)
    parsed = _parsed(request, body)
    fingerprint = _fingerprint(request, body, parsed)
    skey = _store_key(request, key)
    quota = _Quota(request, store, skey)
    # First a place in the quota (a repeat already has one), then the reservation; a full
    # store refuses either with 503 (StateFull) before anything runs.
    await quota.take(PENDING_TTL)
    for _ in range(2):  # a record that expires between the two calls frees the key
        try:
            reserved = await store.set_if_absent(skey, kept.marker(fingerprint, _PENDING),
                                                 PENDING_TTL)
        except StateFull:
            await asyncio.shield(quota.give_back())
            raise
        if reserved:
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
            return await handler(req)
        except GatewayError as err:
            outcome.error = err
            raise

    try:
        # Rendered here by the one error renderer, so an error answer is kept like any other.
        resp = await errors_middleware(fresh, noting)
    except BaseException:
        stats = CALL_STATS.get()
        if stats is None or stats.calls == 0:  # nothing reached a backend: free to try again
            await asyncio.shield(_free(store, skey, quota))
        raise
    try:
        if _keep(resp, outcome):
            assert isinstance(resp, web.Response)
            reads = kept.read_entries(parsed) if route == BULK_ROUTE else None
            await _save(store, skey, fingerprint, resp, reads)
            await quota.take(TTL)  # the place lasts as long as the answer
        else:
            await _free(store, skey, quota)
    except StateUnavailable:
        # The call ran: its answer goes out. The reservation stays until it expires, so a
        # repeat meanwhile is told to wait, never run twice.
        log.warning("idempotency_record_lost", reason="state store unavailable")
    return resp
