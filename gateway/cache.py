"""The read cache: answers to queries and single-record reads, kept per source for ``ttl``.

Off unless a source says ``cache: {ttl, maxBytes, entities}``. What is kept is the answer as it
was sent, its encoded bytes and its ETag, so a hit costs a dictionary lookup: no entity
description, no connector call, no JSON encoding. Each source has a :class:`SourceCache`, a
cachetools ``TTLCache`` bounded in bytes (answer and key), least recently used dropped first.

Keys: org, entity, the read (an id and its ``fields``; a query body with its keys sorted; the
sorted query-string parameters) and the consumer's entity scopes, which decide what of related
records it may see (``gateway/related.py``), so consumers with the same scopes share answers.

Invalidation: a write to one entity can change another's answers (a Sugar relate field copies
the related record's name), so a write through the gateway drops its whole source: the
source's generation goes up and its answers are let go, in O(1). A read notes the generation
before it calls the backend and keeps its answer only if no write finished meanwhile, so a read
racing a write never keeps what it read before the write. The records service drops the source
once a write has finished, succeeded or failed (a failed write may have reached the backend).

Other processes: with a state store that broadcasts (Redis) each drop is published on
``<prefix>cache:invalidate`` and every other process drops that source when it hears it. A
process not subscribed cannot know what it missed: until its subscription is in place (again)
it answers from the backends and keeps nothing, then starts from an empty cache. A silent
connection is found out by a PING after each :data:`HEARTBEAT` of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from cachetools import TTLCache

from gateway.state.base import Broadcast, StateUnavailable

if TYPE_CHECKING:
    from gateway.config.base import CacheConfig
    from gateway.config.model import Consumer, GatewayConfig
    from gateway.observability.metrics import Metrics

__all__ = [
    "CHANNEL", "HEARTBEAT", "Cached", "Key", "ReadCache", "SourceCache", "etag_of", "get_key",
    "query_key",
]

log = structlog.get_logger("gateway.cache")

CHANNEL = "cache:invalidate"  # under the state store's prefix
HEARTBEAT = 1.0  # seconds of silence on the subscription before it is PINGed
RETRY_FIRST, RETRY_MOST = 0.1, 5.0  # seconds between attempts to subscribe again
# What an entry holds beyond its answer and key bytes (tuples, ETag, the cache's links).
OVERHEAD = 256
Scopes = tuple[str, ...] | None


def etag_of(body: bytes) -> str:
    """A strong entity tag for exactly these answer bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class Key:
    """Where an answer is kept, and what its key costs in bytes."""

    value: Hashable
    size: int


def get_key(org: str | None, entity: str, record_id: str, fields: str | None,
            scopes: Scopes) -> Key:
    """One record, with its ``fields`` parameter as given."""
    return Key((org, entity, "get", record_id, fields, scopes),
               len(record_id) + len(fields or ""))


def query_key(org: str | None, entity: str, body: Mapping[str, Any] | None,
              params: Mapping[str, str], scopes: Scopes) -> Key:
    """A query: its body with keys sorted (POST) and its query-string parameters, sorted."""
    items = tuple(sorted(params.items()))
    size = sum(len(k) + len(v) for k, v in items)
    if body is None:
        return Key((org, entity, "params", items, scopes), size)
    detail = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return Key((org, entity, "query", detail, items, scopes), len(detail) + size)


@dataclass(frozen=True, slots=True)
class Cached:
    """One kept answer: the bytes sent, their ETag, when it was kept (monotonic), its size."""

    body: bytes
    etag: str
    stored: float
    size: int

    def age(self) -> int:
        """Whole seconds since it was kept (the ``Age`` header)."""
        return int(time.monotonic() - self.stored)


def _size(entry: Cached) -> int:
    return entry.size


class SourceCache:
    """One source's kept answers, its generation (up by one at each drop) and its counters."""

    __slots__ = ("_answers", "_dropped", "_hits", "_misses", "entities", "generation",
                 "max_age", "max_bytes", "name", "ttl")

    def __init__(self, name: str, config: CacheConfig, metrics: Metrics) -> None:
        self.name = name
        self.ttl = config.ttl
        self.max_age = int(config.ttl)  # Cache-Control max-age: whole seconds, never longer
        self.max_bytes = config.maxBytes
        self.entities = None if config.entities is None else frozenset(config.entities)
        self.generation = 0
        self._answers: Any = self._empty()
        self._hits = metrics.cache_hits.labels(name)
        self._misses = metrics.cache_misses.labels(name)
        self._dropped = {origin: metrics.cache_invalidations.labels(name, origin)
                         for origin in ("local", "remote")}
        metrics.track(metrics.cache_bytes.labels(name), lambda: float(self.held))

    def _empty(self) -> Any:
        return TTLCache(self.max_bytes, self.ttl, timer=time.monotonic, getsizeof=_size)

    @property
    def held(self) -> int:
        """Bytes kept (expired answers count until the cache next drops them)."""
        return int(self._answers.currsize)

    def covers(self, entity: str) -> bool:
        return self.entities is None or entity in self.entities

    def get(self, key: Key) -> Cached | None:
        """The kept answer (a hit), or None (a miss)."""
        try:
            found: Cached = self._answers[key.value]
        except KeyError:
            self._misses.inc()
            return None
        self._hits.inc()
        return found

    def missed(self) -> None:
        """A read of this source answered by its backend without looking here."""
        self._misses.inc()

    def put(self, generation: int, key: Key, body: bytes, etag: str) -> None:
        """Keep an answer read under ``generation``, unless a drop came since."""
        if generation != self.generation:
            return  # a write finished while this was read: it may predate the write
        size = len(body) + key.size + OVERHEAD
        if size <= self.max_bytes:
            self._answers[key.value] = Cached(body, etag, time.monotonic(), size)

    def reset(self) -> None:
        """Forget every answer; reads in flight will not keep theirs."""
        self.generation += 1
        self._answers = self._empty()

    def drop(self, origin: str) -> None:
        """A write (``local``: here; ``remote``: another process) may have changed anything."""
        self.reset()
        self._dropped[origin].inc()


class ReadCache:
    """The read caches of one app, and how their invalidations reach the other processes."""

    def __init__(self, caches: Mapping[str, CacheConfig], metrics: Metrics,
                 bus: Broadcast | None = None) -> None:
        self._sources = {name: SourceCache(name, cfg, metrics) for name, cfg in caches.items()}
        self._bus = bus if self._sources else None
        self._live = self._bus is None  # with a bus, only once subscribed
        self._me = secrets.token_hex(8).encode()  # our own messages come back: skip them
        self._scopes: dict[int, tuple[Consumer, Scopes]] = {}
        self._queued: dict[str, asyncio.Future[None]] = {}  # a publish asked, not started
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._follower: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, config: GatewayConfig, metrics: Metrics, store: object = None) -> ReadCache:
        """The caches ``config`` asks for; their invalidations broadcast through ``store`` when
        it can (Redis), else kept in this process (memory state serves one process only)."""
        caches = {name: src.cache for name, src in config.backends().items()
                  if src.cache is not None}
        return cls(caches, metrics, store if isinstance(store, Broadcast) else None)

    # -- reads ---------------------------------------------------------------------------------

    def slot(self, source: str, entity: str) -> SourceCache | None:
        """The cache a read of ``source``/``entity`` uses, or None: not cached, or not now (the
        subscription that would tell this process of other processes' writes is down)."""
        found = self._sources.get(source)
        if found is None or not found.covers(entity):
            return None
        if not self._live:
            found.missed()
            return None
        return found

    def scopes(self, consumer: Consumer | None) -> Scopes:
        """What of ``consumer`` its answers depend on: its entity scope patterns (the related
        records it may see), sorted; None when it may see every entity."""
        if consumer is None:
            return None
        known = self._scopes.get(id(consumer))
        if known is not None and known[0] is consumer:
            return known[1]
        patterns = consumer.scopes.entities
        value = None if patterns is None else tuple(sorted(set(patterns)))
        self._scopes[id(consumer)] = (consumer, value)
        return value

    # -- writes --------------------------------------------------------------------------------

    def _drop(self, source: str) -> bool:
        """Drop ``source`` here; True when other processes must be told."""
        found = self._sources.get(source)
        if found is None:
            return False
        found.drop("local")
        return self._bus is not None

    async def invalidate(self, source: str) -> None:
        """A write to ``source`` finished: drop its answers here, and return once Redis has
        taken the message for the other processes."""
        if self._drop(source):
            await asyncio.shield(self._announce(source))

    def invalidate_soon(self, source: str) -> None:
        """As :meth:`invalidate`, without waiting for the message: the writes of one native
        batch are finished one after the other, and one message can tell of all of them."""
        if self._drop(source):
            self._announce(source)

    def _announce(self, source: str) -> asyncio.Future[None]:
        """A publish of ``source``'s drop that starts after now: the one already waiting for its
        turn, if any (a publish under way may have left before this write finished)."""
        queued = self._queued.get(source)
        if queued is None:
            queued = self._queued[source] = asyncio.get_running_loop().create_future()
            if source not in self._senders:
                self._senders[source] = asyncio.create_task(self._send(source))
        return queued

    async def _send(self, source: str) -> None:
        assert self._bus is not None
        message = self._me + b" " + source.encode()
        try:
            while (asked := self._queued.pop(source, None)) is not None:
                try:
                    await self._bus.publish(CHANNEL, message)
                except Exception as exc:  # the write is done; its answer must not fail now
                    log.warning("cache_invalidation_not_published", source=source,
                                error=getattr(exc, "error", type(exc).__name__))
                finally:
                    if not asked.done():
                        asked.set_result(None)
        finally:
            del self._senders[source]

    # -- other processes' writes ---------------------------------------------------------------

    async def start(self) -> None:
        """Follow the other processes' invalidations (with a bus; a no-op otherwise)."""
        if self._bus is not None and self._follower is None:
            self._follower = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        assert self._bus is not None
        pause = RETRY_FIRST
        while True:
            reason = "closed"
            try:
                await self._bus.listen(CHANNEL, self._heard, self._ready, heartbeat=HEARTBEAT)
            except StateUnavailable as exc:
                reason = str(exc.params.get("reason", exc.error))
            except Exception as exc:
                reason = type(exc).__name__
                log.warning("cache_subscription_failed", exc_info=True)
            if self._live:
                log.warning("cache_bypassed", reason=reason, sources=sorted(self._sources))
                pause = RETRY_FIRST
            self._live = False
            for found in self._sources.values():
                found.reset()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MOST)

    def _ready(self) -> None:
        # Whatever was published while we were not listening is lost: start from nothing.
        for found in self._sources.values():
            found.reset()
        self._live = True
        log.info("cache_subscribed", sources=sorted(self._sources))

    def _heard(self, message: bytes) -> None:
        sender, _, source = message.partition(b" ")
        if sender == self._me:
            return
        found = self._sources.get(source.decode("utf-8", "replace"))
        if found is not None:
            found.drop("remote")

    @property
    def live(self) -> bool:
        """Whether answers may be kept and reused now."""
        return self._live

    async def aclose(self) -> None:
        """Stop following; let the invalidations being published finish."""
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        if self._senders:
            await asyncio.gather(*self._senders.values(), return_exceptions=True)
