"""RecordsService: query, get, create, update, delete and discovery, run from typed commands.

One implementation of what a records call does once its caller is known and its scopes were
checked: the id's shape, the entity's description, the body's fields, the query's related-record
checks, the connector call under the source's health observation, and the related-record cut
of what comes back. The HTTP handlers and ``/v1/bulk`` both call it, so an entry answers as
its call alone.

Writes come in two halves so that ``/v1/bulk`` can coalesce them without the connector knowing:
:meth:`RecordsService.plan_write` does every check and returns a :class:`PlannedWrite` (the
:class:`~gateway.connector.BatchOp` it would send); :meth:`RecordsService.write` sends it alone,
:meth:`RecordsService.finish` turns the outcome of a native batch into the same answer.

Reads answer encoded, with their ETag, from the source's read cache when it has them
(``gateway/cache.py``); every write that was sent, or may have been, drops its source's cache
once it has finished, whatever its outcome.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from gateway.addresses import check_id
from gateway.cache import Key, ReadCache, SourceCache, etag_of, get_key, query_key
from gateway.connector import BatchOp, BatchOutcome, Connector, EntityInfo, Record, writer
from gateway.errors import Detail, GatewayError, InvalidRequest, NotExecuted, first_problem
from gateway.http.envelope import dumps, ok_body, page_body
from gateway.query.execute import project, run_query
from gateway.query.parse import parse_body, parse_params
from gateway.records.commands import (
    Caller,
    Command,
    Create,
    Delete,
    Get,
    ListEntities,
    ListSources,
    Query,
    Update,
    bad_input,
)
from gateway.related import check_query, cut_related
from gateway.sources import View

if TYPE_CHECKING:
    from gateway.config.model import ServerConfig
    from gateway.observability.metrics import Metrics
    from gateway.sources import Source, Sources

__all__ = ["Answer", "PlannedWrite", "RecordsService", "entity_json"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What an operation answers: the status and the envelope (the spec's JSON shape).

    A read's envelope comes encoded: ``body`` is its bytes as an ``orjson.Fragment`` (so it
    is embedded as is wherever it is encoded again), ``raw`` the same bytes, ``etag`` their
    entity tag; ``max_age`` is how long it may be reused (seconds; None when its source does
    not cache it, or not now) and ``age`` how old a kept answer is."""

    status: int
    body: Any
    raw: bytes | None = None
    etag: str | None = None
    max_age: int | None = None
    age: int = 0


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """A checked write, not sent yet."""

    source: Source
    conn: Connector
    info: EntityInfo
    op: BatchOp
    caller: Caller


def entity_json(info: EntityInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "label": info.label,
        "fields": [
            {"name": f.name, "type": f.type, "filterable": f.filterable, "sortable": f.sortable}
            for f in info.fields.values()
        ],
    }


def _check_fields(data: Record, info: EntityInfo) -> None:
    """Unknown fields in a write are refused rather than silently dropped by a backend."""
    if not info.fields:
        return
    unknown = [k for k in data if k != "id" and k not in info.fields]
    if unknown:
        details = [Detail(k, "unknown_field", {"field": k, "entity": info.name}) for k in unknown]
        raise InvalidRequest(*first_problem(details[0], len(details)), details=details)


def _if_match(value: str | None) -> str | None:
    if value is None or not value.strip() or value.strip() == "*":
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def _version(cmd: Update, data: dict[str, Any]) -> str | None:
    """The version the update is conditional on: the body's, or If-Match's (which must agree);
    takes ``version`` and ``id`` out of ``data``."""
    version: str | None = None
    if "version" in data:
        raw = data.pop("version")
        if isinstance(raw, bool) or (raw is not None and not isinstance(raw, str | int)):
            raise bad_input("version", "bad_version_type")
        version = None if raw is None else str(raw)
    header = _if_match(cmd.if_match)
    if header is not None:
        if version is not None and version != header:
            raise bad_input("version", "version_mismatch")
        version = header
    if "id" in data:
        if str(data.pop("id")) != cmd.id:
            raise bad_input("id", "id_mismatch")
    return version


class RecordsService:
    """The records operations of one app (its sources, server settings and metrics)."""

    def __init__(self, sources: Sources, server: ServerConfig, metrics: Metrics,
                 cache: ReadCache | None = None) -> None:
        self.sources = sources
        self.server = server
        self.metrics = metrics
        self.cache = cache or ReadCache({}, metrics)

    async def _target(
        self, cmd: Command, record_id: str | None = None
    ) -> tuple[Source, Connector, EntityInfo]:
        """The source, the org's connector and the described entity (404 for either unknown);
        with ``record_id``, that id is first checked against the connector's id shape (400)."""
        source = self.sources.get(cmd.source)
        conn = source.connector(cmd.caller.org, cmd.caller.consumer)
        if record_id is not None:
            check_id(conn, source.name, record_id, metrics=self.metrics)
        with source.observe():
            info = await conn.describe(cmd.entity)
        return source, conn, info

    @staticmethod
    async def _visible(
        caller: Caller, source: Source, conn: Connector, info: EntityInfo, *records: Record
    ) -> list[Record]:
        """The records as this consumer may see them: related records of entities its scopes
        do not allow are cut to their ids (``gateway/related.py``)."""
        return await cut_related(list(records), caller.consumer, source.name, info,
                                 conn.describe)

    # -- reads ---------------------------------------------------------------------------------

    def _kept(self, slot: SourceCache | None, key: Key | None, fresh: bool) -> Answer | None:
        """The kept answer for this read, if its source caches it and has it (a hit)."""
        if slot is None or key is None:
            return None
        if fresh:
            slot.missed()
            return None
        hit = slot.get(key)
        if hit is None:
            return None
        return Answer(200, orjson.Fragment(hit.body), hit.body, hit.etag, slot.max_age,
                      hit.age())

    @staticmethod
    def _encoded(slot: SourceCache | None, key: Key | None, generation: int,
                 envelope: dict[str, Any]) -> Answer:
        """A read's answer from the backend, encoded; kept if no write finished since
        ``generation`` was noted (before the backend was asked: see gateway/cache.py)."""
        raw = dumps(envelope)
        etag = etag_of(raw)
        if slot is None or key is None:
            return Answer(200, orjson.Fragment(raw), raw, etag)
        slot.put(generation, key, raw, etag)
        return Answer(200, orjson.Fragment(raw), raw, etag, slot.max_age)

    async def query(self, cmd: Query, *, fresh: bool = False) -> Answer:
        """A page of records; ``fresh``: not from the cache (the caller's ``no-cache``)."""
        slot = self.cache.slot(cmd.source, cmd.entity)
        key = None if slot is None else query_key(
            cmd.caller.org, cmd.entity, cmd.body, cmd.params,
            self.cache.scopes(cmd.caller.consumer))
        if (hit := self._kept(slot, key, fresh)) is not None:
            return hit
        generation = 0 if slot is None else slot.generation
        return self._encoded(slot, key, generation, await self._query(cmd))

    async def _query(self, cmd: Query) -> dict[str, Any]:
        source, conn, info = await self._target(cmd)
        size = self.server.maxPageSize
        q = (parse_body(cmd.body, max_page_size=size, entity=info) if cmd.body is not None
             else parse_params(cmd.params, max_page_size=size, entity=info))
        await check_query(q, cmd.caller.consumer, source.name, info, conn.describe)
        with source.observe():
            result = await run_query(conn, info, q, max_scan=self.server.maxScanRecords)
        records = await self._visible(cmd.caller, source, conn, info, *result.records)
        return page_body(records, page_no=q.page_no, page_size=q.page_size, total=result.total)

    async def get(self, cmd: Get, *, fresh: bool = False) -> Answer:
        """One record; ``fresh``: not from the cache (the caller's ``no-cache``)."""
        slot = self.cache.slot(cmd.source, cmd.entity)
        key = None if slot is None else get_key(
            cmd.caller.org, cmd.entity, cmd.id, cmd.params.get("fields"),
            self.cache.scopes(cmd.caller.consumer))
        if (hit := self._kept(slot, key, fresh)) is not None:
            return hit
        generation = 0 if slot is None else slot.generation
        return self._encoded(slot, key, generation, await self._get(cmd))

    async def _get(self, cmd: Get) -> dict[str, Any]:
        source, conn, info = await self._target(cmd, cmd.id)
        fields = None
        if "fields" in cmd.params:
            # The query parser owns what a valid `fields` is; reuse it rather than re-implement.
            fields = parse_params({"fields": cmd.params["fields"]},
                                  max_page_size=self.server.maxPageSize, entity=info).fields
        with source.observe():
            record = await conn.get(info.name, cmd.id, fields)
        (shown,) = await self._visible(cmd.caller, source, conn, info, project(record, fields))
        return ok_body(shown)

    # -- writes --------------------------------------------------------------------------------

    async def plan_write(self, cmd: Create | Update | Delete) -> PlannedWrite:
        """Every check of the write, up to the connector call it would make."""
        view = self.sources.get(cmd.source)
        if isinstance(view, View):  # no view writes yet: 405/422 before anything is read
            view.refuse_write(cmd.entity, isinstance(cmd, Create))
        if isinstance(cmd, Create):
            source, conn, info = await self._target(cmd)
            _check_fields(cmd.data, info)
            op = BatchOp("create", data=cmd.data)
        elif isinstance(cmd, Update):
            data = dict(cmd.data)
            source, conn, info = await self._target(cmd, cmd.id)
            version = _version(cmd, data)
            _check_fields(data, info)
            op = BatchOp("update", record_id=cmd.id, data=data, version=version)
        else:
            source, conn, info = await self._target(cmd, cmd.id)
            op = BatchOp("delete", cmd.id)
        writer(conn, source.name)  # 422 for a read-only source, before any write
        return PlannedWrite(source, conn, info, op, cmd.caller)

    async def write(self, planned: PlannedWrite) -> Answer:
        """Send a planned write alone."""
        source, op = planned.source, planned.op
        conn = writer(planned.conn, source.name)
        name = planned.info.name
        try:
            with source.observe():
                if op.action == "create":
                    record: Record | None = await conn.create(name, op.data or {})
                elif op.action == "update":
                    assert op.record_id is not None
                    record = await conn.update(name, op.record_id, op.data or {}, op.version)
                else:
                    assert op.record_id is not None
                    await conn.delete(name, op.record_id)
                    record = None
        finally:  # failed too: the backend may have applied it before failing
            await self.cache.invalidate(source.name)
        return await self._answer(planned, record)

    async def finish(self, planned: PlannedWrite, outcome: BatchOutcome | Exception) -> Answer:
        """The answer of a write sent in a native batch (its op's outcome, or the exception
        that ended the whole batch call): what it would have answered alone."""
        if not (isinstance(outcome, BatchOutcome) and not outcome.executed):
            # Sent (or maybe: a whole call that failed may have been applied in part), and the
            # batch has finished: every op of it is covered by one message to the others.
            self.cache.invalidate_soon(planned.source.name)
        with planned.source.observe():
            if isinstance(outcome, Exception):
                raise outcome
            if outcome.error is not None:
                raise outcome.error
            if not outcome.executed:
                raise NotExecuted()
            if planned.op.action != "delete" and outcome.record is None:
                raise GatewayError("batch_write_without_record", {"source": planned.source.name})
        return await self._answer(planned, outcome.record)

    async def _answer(self, planned: PlannedWrite, record: Record | None) -> Answer:
        if planned.op.action == "delete":
            return Answer(200, ok_body({"id": planned.op.record_id}))
        assert record is not None
        (shown,) = await self._visible(planned.caller, planned.source, planned.conn,
                                       planned.info, record)
        return Answer(201 if planned.op.action == "create" else 200, ok_body(shown))

    async def create(self, cmd: Create) -> Answer:
        return await self.write(await self.plan_write(cmd))

    async def update(self, cmd: Update) -> Answer:
        return await self.write(await self.plan_write(cmd))

    async def delete(self, cmd: Delete) -> Answer:
        return await self.write(await self.plan_write(cmd))

    # -- discovery -----------------------------------------------------------------------------

    async def list_sources(self, cmd: ListSources) -> Answer:
        """Each source this consumer may use, with the health of the credentials its org uses
        there (checked when the last observation is stale) and the source's circuit breaker."""
        consumer = cmd.caller.consumer
        assert consumer is not None  # every /v1 call has a consumer
        found = [s for s in self.sources if consumer.allows_source(s.name)]
        seen = await asyncio.gather(*(s.probe(cmd.caller.org, self.server.readyTimeout)
                                      for s in found))
        return Answer(200, ok_body([
            {"name": s.name, "type": s.type, "health": h.health, "reason": h.reason,
             "circuit": h.circuit}
            for s, h in zip(found, seen, strict=True)
        ]))

    async def list_entities(self, cmd: ListEntities) -> Answer:
        source = self.sources.get(cmd.source)
        conn = source.connector(cmd.caller.org, cmd.caller.consumer)
        with source.observe():
            entities = await conn.entities()
        consumer = cmd.caller.consumer
        # Scopes may allow only some entities of a source: list only those.
        allowed = [e for e in entities
                   if consumer is None or consumer.allows_entity(source.name, e.name)]
        return Answer(200, ok_body([entity_json(e) for e in allowed]))
