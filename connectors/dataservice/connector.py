"""DataServiceConnector: the Connector protocol for UiPath Data Service, from this package's parts.

URL surface: the name-keyed ``EntityService/<Name>/…`` routes (the documented public API, the one
the tenant's OpenAPI file describes, and the only query route that honours ``joins``). The gateway
addresses entities by name, so no name → GUID lookup is needed before a call.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import aiohttp

from connectors.dataservice.auth import auth_header, token_source
from connectors.dataservice.batch import (
    Batches,
    ItemOutcome,
    item_key,
    outcomes,
    same_instant,
    version_conflict,
)
from connectors.dataservice.client import DataServiceClient
from connectors.dataservice.config import DataServiceSource
from connectors.dataservice.errors import TABLE, BatchRejected, classify
from connectors.dataservice.files import DataServiceFiles
from connectors.dataservice.metadata import entity_from_config, entity_from_metadata
from connectors.dataservice.query import (
    capabilities,
    pushable,
    sort_options,
    to_filter_group,
    wire_name,
)
from gateway.connector import (
    BatchOp,
    BatchOutcome,
    EntityInfo,
    FileDownload,
    FileInfo,
    Page,
    PushedQuery,
    Record,
)
from gateway.errors import GatewayError, InvalidRequest, NotFound
from gateway.kit.base import HttpConnector
from gateway.kit.oauth2 import ClientCredentials
from gateway.query.model import Condition, Filter
from gateway.state.lock import RecordLocks
from gateway.state.memory import MemoryStore
from gateway.upstream.client import UpstreamResponse
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy

__all__ = ["DataServiceConnector", "from_wire", "to_wire"]


def from_wire(record: dict[str, Any], fields: tuple[str, ...] | None = None) -> Record:
    """A service record as the gateway shows it: ``Id`` as ``id`` (first), the rest unchanged."""
    out: Record = {"id": record.get("Id")}
    for key, value in record.items():
        if key != "Id" and (fields is None or key in fields):
            out[key] = value
    return out


def to_wire(data: Record) -> dict[str, Any]:
    """A gateway record body for the service (``id`` → ``Id``)."""
    return {wire_name(k): v for k, v in data.items()}


class DataServiceConnector(HttpConnector):
    """One Data Service source for one external application; does not own the shared session."""

    backend = "Data Service"
    table = TABLE

    def __init__(
        self,
        name: str,
        config: DataServiceSource,
        session: aiohttp.ClientSession,
        ctx: UpstreamContext,
        *,
        policy: RetryPolicy | None = None,
        token_skew: float = 60.0,
    ) -> None:
        self.config = config
        super().__init__(name, config, session, ctx, policy=policy, token_skew=token_skew,
                         secrets=[config.auth.clientSecret.get_secret_value()])
        self.capabilities = capabilities(config.maxPerCall)
        self._client = DataServiceClient(self.upstream, config)
        self._files = DataServiceFiles(self.upstream, self._client)
        # The service has no conditional update: versioned writes compare UpdateTime, then
        # write, holding the record's lock in the gateway's state store meanwhile (alone: a
        # lock in this process).
        self._locks = ctx.locks if ctx.locks is not None else RecordLocks(MemoryStore())
        self._batches = Batches(self._client, name, self.classify, from_wire, self._not_found,
                                to_wire, self._locks, self._lock_key)

    def classify(self, op: str, resp: UpstreamResponse) -> GatewayError:
        return classify(self.name, op, resp)  # the table, and batch answers sent as a 400

    def token_source(self) -> ClientCredentials:
        return token_source(self.upstream, self.config)

    def auth_header(self, access: str) -> Mapping[str, str]:
        return auth_header(access)

    # -- discovery ---------------------------------------------------------------------------

    async def _schema(self, meta: dict[str, Any]) -> EntityInfo:
        if not isinstance(meta.get("fields"), list) and isinstance(meta.get("id"), str):
            meta = await self._client.entity(meta["id"])
        return entity_from_metadata(meta)

    async def describe(self, entity: str) -> EntityInfo:
        """Fields from ``GET /Entity`` (5 min cache), overridden by the config's."""
        self.check_entity(entity)
        return await self.described(entity, partial(self._describe, entity))

    async def _describe(self, entity: str) -> EntityInfo:
        configured = self.config.entities.get(entity) if self.config.entities else None
        listed = next((e for e in await self._client.entities() if e["name"] == entity), None)
        if listed is not None:
            info = await self._schema(listed)
            return entity_from_config(entity, configured, info) if configured else info
        if configured is not None:
            return entity_from_config(entity, configured)
        raise self.unknown_entity(entity)

    async def entities(self) -> list[EntityInfo]:
        if self.config.entities is not None:
            return [await self.describe(name) for name in self.config.entities]
        found = []
        for meta in sorted(await self._client.entities(), key=lambda e: str(e["name"])):
            info = self.meta[str(meta["name"])] = await self._schema(meta)
            found.append(info)
        return found

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return pushable(condition, entity.field(condition.field))

    # -- reads -------------------------------------------------------------------------------

    @staticmethod
    def _body(entity: EntityInfo, filter: Filter) -> dict[str, Any]:
        group = to_filter_group(filter, entity.fields)
        return {"filterGroup": group} if group is not None else {}

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        if limit <= 0:
            return Page([], more=None)
        body = self._body(entity, pushed.filter)
        body |= {"start": offset, "limit": min(limit, self.capabilities.max_page)}
        if pushed.order_by:
            body["sortOptions"] = sort_options(pushed.order_by)
        if pushed.fields is not None:
            body["selectedFields"] = list(dict.fromkeys(wire_name(f)
                                                        for f in ("id", *pushed.fields)))
        records, total = await self._client.query(entity.name, body)
        more = None if total is None else offset + len(records) < total
        return Page([from_wire(r, pushed.fields) for r in records], more=more, total=total)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        """One query call asking for one Id: its ``totalRecordCount`` is the count."""
        body = self._body(entity, filter) | {"start": 0, "limit": 1, "selectedFields": ["Id"]}
        _, total = await self._client.query(entity.name, body, op="count")
        if total is None:
            raise self._client.bad("count")
        return total

    def _not_found(self, entity: str, record_id: str, exc: NotFound) -> NotFound:
        return self.record_not_found(entity, record_id, exc.source)

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        await self.describe(entity)  # an unknown entity is told apart from an unknown record
        try:
            record = await self._client.read(entity, record_id)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        return from_wire(record, fields)

    # -- writes (never repeated unless provably unsent) -------------------------------------

    async def create(self, entity: str, data: Record) -> Record:
        await self.describe(entity)
        return from_wire(await self._client.insert(entity, to_wire(data)))

    async def update(
        self, entity: str, record_id: str, data: Record, version: str | None
    ) -> Record:
        await self.describe(entity)
        body = to_wire(data)
        if "Id" in body:
            if str(body.pop("Id")) != record_id:
                raise InvalidRequest("id_immutable")
        # Every update through the gateway holds the record's lock, unversioned ones too: one
        # landing between a versioned update's read and write would be overwritten unseen.
        # Writes made outside the gateway still can (README, "Optimistic locking").
        try:
            async with self._locks.hold([self._lock_key(entity, record_id)]) as held:
                if version is not None:
                    current = await self._client.read(entity, record_id)
                    stamp = current.get("UpdateTime")
                    if not isinstance(stamp, str) or not same_instant(stamp, version):
                        raise version_conflict(self.name, entity, record_id, version)
                await held.confirm()
                record = await self._client.update(entity, record_id, body)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        return from_wire(record)

    def _lock_key(self, entity: str, record_id: str) -> str:
        # Ids are GUIDs, written in any case; entity names are matched without case too.
        return f"{self.name}:{entity.lower()}:{record_id.lower()}"

    async def delete(self, entity: str, record_id: str) -> None:
        await self.describe(entity)
        try:
            await self._client.delete(entity, record_id)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None

    # -- native batches ----------------------------------------------------------------------

    async def write_batch(
        self, entity: str, ops: Sequence[BatchOp], *, fail_on_first: bool = False
    ) -> list[BatchOutcome]:
        """Runs of the same action as insert-, update- or delete-batch calls, in order, with
        ``failOnFirst`` passed through; each op answers what its single call would. Versioned
        updates are checked first by one query on their Ids, under the records' locks."""
        await self.describe(entity)
        return await self._batches.run(entity, ops, fail_on_first)

    async def _batch(self, op: str, entity: str, path: str, items: list[Any], action: str,
                     fail_on_first: bool) -> list[ItemOutcome]:
        await self.describe(entity)
        if not items:
            return []
        try:
            answer = await self._client.batch(op, entity, path, items, fail_on_first)
        except BatchRejected as exc:
            answer = exc.answer
        found = outcomes(items, answer, partial(item_key, action), from_wire,
                         fail_on_first=fail_on_first, by_key=action != "create")
        if found is None:
            raise self._client.bad(op)
        return found

    async def insert_batch(self, entity: str, records: list[Record], fail_on_first: bool = False
                           ) -> list[ItemOutcome]:
        """``insert-batch``: one outcome per record, in order (the service's own texts)."""
        return await self._batch("insert_batch", entity, "insert-batch",
                                 [to_wire(r) for r in records], "create", fail_on_first)

    async def update_batch(self, entity: str, records: list[Record], fail_on_first: bool = False
                           ) -> list[ItemOutcome]:
        """``update-batch``: each record carries its ``id``; one outcome per record, in order."""
        items = [to_wire(r) for r in records]
        if any(not isinstance(i.get("Id"), str) for i in items):
            raise InvalidRequest("batch_needs_id", {"action": "update"})
        return await self._batch("update_batch", entity, "update-batch", items, "update",
                                 fail_on_first)

    async def delete_batch(self, entity: str, ids: list[str], fail_on_first: bool = False
                           ) -> list[ItemOutcome]:
        """``delete-batch``: one outcome per id; ``record`` is the deleted record."""
        return await self._batch("delete_batch", entity, "delete-batch", list(ids), "delete",
                                 fail_on_first)

    # -- files -------------------------------------------------------------------------------

    def open_file(self, entity: str, record_id: str, field: str
                  ) -> AbstractAsyncContextManager[FileDownload]:
        return self._files.open(entity, record_id, field)

    async def put_file(self, entity: str, record_id: str, field: str, *, filename: str,
                       content_type: str, chunks: AsyncIterable[bytes], size: int | None
                       ) -> FileInfo:
        return await self._files.put(entity, record_id, field, filename=filename,
                                     content_type=content_type, chunks=chunks, size=size)

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        await self._files.delete(entity, record_id, field)

    # -- lifecycle ---------------------------------------------------------------------------

    async def check(self) -> None:
        await super().check()
        await self._client.entities()

    # aclose (HttpConnector): nothing to revoke, a client-credentials token simply expires.
