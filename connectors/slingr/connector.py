"""SlingrConnector: the Connector protocol for the Slingr runtime API, assembled from its parts."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import aiohttp

from connectors.slingr import files
from connectors.slingr.auth import SlingrTokenSource, auth_header
from connectors.slingr.client import SlingrClient
from connectors.slingr.config import SlingrSource
from connectors.slingr.errors import TABLE
from connectors.slingr.metadata import entity_from_config, entity_from_sample
from connectors.slingr.paging import walk_ids
from connectors.slingr.query import DELETE_CHUNK, capabilities, pushable, sort_params, to_params
from gateway.connector import (
    BatchOp,
    BatchOutcome,
    EntityInfo,
    FileDownload,
    FileInfo,
    Page,
    PushedQuery,
)
from gateway.connector import Record as Rec
from gateway.errors import (
    BackendFailure,
    Forbidden,
    GatewayError,
    InvalidRequest,
    NotExecuted,
    NotFound,
    SourceInfo,
    Unsupported,
)
from gateway.kit.base import HttpConnector
from gateway.query.model import Condition, Filter
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy

__all__ = ["DELETE_CHUNK", "SAMPLE_SIZE", "SlingrConnector"]

SAMPLE_SIZE = 200  # records read to infer an unconfigured entity's fields


def present(record: dict[str, Any], fields: tuple[str, ...] | None) -> Rec:
    """A Slingr record as the gateway shows it: all of it, or ``id`` and the asked fields; a
    dotted field (``contactInformation.email``) keeps the object it lies in, which Slingr
    answers cut to the asked paths and the gateway reads the value from."""
    if fields is None:
        return record
    keep = {"id", *(name.split(".", 1)[0] for name in fields)}
    return {k: v for k, v in record.items() if k in keep}


class SlingrConnector(HttpConnector):
    """One Slingr app for one set of credentials; does not own the shared session."""

    backend = "Slingr"
    table = TABLE

    def __init__(
        self,
        name: str,
        config: SlingrSource,
        session: aiohttp.ClientSession,
        ctx: UpstreamContext,
        *,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        super().__init__(name, config, session, ctx, policy=policy,
                         secrets=[config.auth.password.get_secret_value()])
        self.capabilities = capabilities(config.maxPerCall)
        self._client = SlingrClient(self.upstream, config.base_url)

    def token_source(self) -> SlingrTokenSource:
        return SlingrTokenSource(self.upstream, self.config)

    def auth_header(self, access: str) -> Mapping[str, str]:
        return auth_header(access)

    def _not_found(self, entity: str, record_id: str, exc: NotFound) -> NotFound:
        return self.record_not_found(entity, record_id, exc.source)

    # -- discovery ---------------------------------------------------------------------------

    async def describe(self, entity: str) -> EntityInfo:
        """Configured fields, else fields inferred from a sample (either cached 5 min)."""
        return await self.described(entity, partial(self._describe, entity))

    async def _describe(self, entity: str) -> EntityInfo:
        if self.config.entities is not None:
            configured = self.config.entities.get(entity)
            if configured is None:
                raise self.unknown_entity(entity)
            return entity_from_config(entity, configured)
        try:
            sample = await self._client.query(entity, {"_size": str(SAMPLE_SIZE)})
        except NotFound as exc:
            raise self.unknown_entity(entity, exc.source) from None
        return entity_from_sample(entity, sample.items)

    async def entities(self) -> list[EntityInfo]:
        if self.config.entities is None:
            raise Unsupported("entities_not_listed",
                              {"source": self.name, "backend": "Slingr's runtime API"})
        return [await self.describe(name) for name in self.config.entities]

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return pushable(condition, entity.field(condition.field))

    # -- reads -------------------------------------------------------------------------------

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        if limit <= 0:
            return Page([], more=None)
        params = to_params(pushed.filter, entity.fields)
        params |= sort_params(pushed.order_by)
        params |= {"_offset": str(offset), "_size": str(min(limit, self.capabilities.max_page))}
        if pushed.fields is not None:
            params["_fields"] = ",".join(dict.fromkeys(["id", *pushed.fields]))
        answer = await self._client.query(entity.name, params)
        records = [present(r, pushed.fields) for r in answer.items]
        return Page(records, more=offset + len(records) < answer.total, total=answer.total)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        params = to_params(filter, entity.fields) | {"_size": "1", "_fields": "id"}
        return (await self._client.query(entity.name, params)).total

    async def walk(
        self, entity: str, filter: Filter = (), fields: tuple[str, ...] | None = None,
        *, size: int | None = None,
    ) -> AsyncIterator[list[Rec]]:
        """Every record matching ``filter``, newest first, page by page through id offsets:
        records changed meanwhile are neither skipped nor repeated; a cursor that does not
        advance is a BackendFailure. For full reads (export, bulk) rather than ``pageNo``."""
        params = to_params(filter, (await self.describe(entity)).fields)
        if fields is not None:
            params["_fields"] = ",".join(dict.fromkeys(["id", *fields]))
        step = min(size or self.capabilities.max_page, self.capabilities.max_page)
        async for answer in walk_ids(partial(self._client.query, entity), params, step, self.name):
            yield [present(r, fields) for r in answer.items]

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Rec:
        asked = list(dict.fromkeys(["id", *fields])) if fields is not None else None
        try:
            record = await self._client.get(entity, record_id, asked)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        return present(record, fields)

    # -- writes (never repeated unless provably unsent) -------------------------------------

    async def create(self, entity: str, data: Rec) -> Rec:
        body = {k: v for k, v in data.items() if k not in ("id", "version", "label")}
        try:
            return await self._client.create(entity, body)
        except NotFound as exc:
            raise self.unknown_entity(entity, exc.source) from None

    async def update(self, entity: str, record_id: str, data: Rec, version: str | None) -> Rec:
        body = {k: v for k, v in data.items() if k not in ("id", "version", "label")}
        if version is not None:
            if not version.strip().isdigit():
                raise InvalidRequest("bad_version", {"backend": "Slingr", "version": version})
            body["version"] = int(version)
        try:
            return await self._client.update(entity, record_id, body)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None

    async def delete(self, entity: str, record_id: str) -> None:
        try:
            await self._client.delete(entity, [record_id])
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None

    async def delete_many(self, entity: str, ids: list[str]) -> dict[str, GatewayError | None]:
        """Delete by comma-separated ids, ``DELETE_CHUNK`` per call: None for each deleted id,
        the error for each refused one (an id Slingr does not mention was not found)."""
        out: dict[str, GatewayError | None] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), DELETE_CHUNK):
            out |= await self._delete_chunk(entity, unique[start:start + DELETE_CHUNK])
        return out

    async def _delete_chunk(self, entity: str, chunk: list[str]) -> dict[str, GatewayError | None]:
        """One delete call for distinct ids. A refusal of the whole call (unknown entity, no
        permission) is what each id's own delete would have got; other failures raise."""
        try:
            answer = await self._client.delete(entity, chunk)
        except (NotFound, Forbidden) as exc:
            return {rid: self._not_found(entity, rid, exc) if isinstance(exc, NotFound) else exc
                    for rid in chunk}
        if len(chunk) == 1 and "status" not in answer.get(chunk[0], {}):
            answer = {chunk[0]: {"status": "ok", "response": answer}}  # one id: the record
        widened = sorted(set(answer) - set(chunk))
        if widened:
            # Slingr acted on records no entry named: never report that as per-entry outcomes.
            raise BackendFailure(
                "widened_delete", {"source": self.name, "backend": "Slingr", "count": len(chunk),
                                   "others": len(widened), "ids": ", ".join(widened[:5])},
                sent=True, source=SourceInfo(self.name, 200, "widened_delete"),
            )
        return {rid: self._outcome(entity, rid, answer.get(rid)) for rid in chunk}

    async def write_batch(
        self, entity: str, ops: Sequence[BatchOp], *, fail_on_first: bool = False
    ) -> list[BatchOutcome]:
        """Deletes by id list (Slingr has no batch create or update): one call for the ops,
        or one more each time an id comes back (the answer is keyed by id, so one call cannot
        say what each of two deletes of the same record did)."""
        if fail_on_first:
            raise Unsupported("batch_cannot_stop", {"source": self.name, "backend": "Slingr"})
        if any(op.action != "delete" for op in ops):
            raise Unsupported("batch_deletes_only", {"source": self.name, "backend": "Slingr"})
        if len(ops) > DELETE_CHUNK:
            raise InvalidRequest("batch_too_large",
                                 {"source": self.name, "backend": "Slingr", "limit": DELETE_CHUNK})
        out: list[BatchOutcome | None] = [None] * len(ops)
        chunk: list[int] = []

        async def flush() -> None:
            found = await self._delete_chunk(entity, [ops[i].record_id or "" for i in chunk])
            for i in chunk:
                err = found[ops[i].record_id or ""]
                out[i] = BatchOutcome(record={"id": ops[i].record_id}) if err is None \
                    else BatchOutcome(error=err)
            chunk.clear()

        for i, op in enumerate(ops):
            if not op.record_id:
                out[i] = BatchOutcome(error=InvalidRequest("batch_needs_id", {"action": "delete"}))
                continue
            if any(ops[j].record_id == op.record_id for j in chunk):
                await flush()
            chunk.append(i)
        if chunk:
            await flush()
        return [o if o is not None else BatchOutcome(error=NotExecuted()) for o in out]

    def _outcome(self, entity: str, rid: str, item: Any) -> GatewayError | None:
        if isinstance(item, dict) and item.get("status") == "ok":
            return None
        message = item.get("errorMessage") if isinstance(item, dict) else None
        info = SourceInfo(self.name, 200, "error")
        if message is None or "not found" in str(message).lower() or "exist" in str(message):
            return self.record_not_found(entity, rid, info)
        return InvalidRequest("invalid_request_said", {"source": self.name, "text": str(message)},
                              source=info)

    async def delete_many_job(self, entity: str, ids: list[str]) -> str:
        """Delete by ids as a Slingr background job (``_async``); its job id."""
        answer = await self._client.delete(entity, list(dict.fromkeys(ids)), job=True)
        job = answer.get("jobId")
        if not isinstance(job, str):
            raise self._client.bad("delete job")
        return job

    # -- files -------------------------------------------------------------------------------

    async def _file_ref(self, entity: str, record_id: str, field: str) -> dict[str, Any] | None:
        record = await self.get(entity, record_id, (field,))
        ref = record.get(field)
        if ref is not None and not (isinstance(ref, dict) and isinstance(ref.get("id"), str)):
            raise InvalidRequest("not_a_file_field", {"field": field, "entity": entity})
        return ref

    def open_file(
        self, entity: str, record_id: str, field: str
    ) -> AbstractAsyncContextManager[FileDownload]:
        return self._open_file(entity, record_id, field)

    @asynccontextmanager
    async def _open_file(
        self, entity: str, record_id: str, field: str
    ) -> AsyncIterator[FileDownload]:
        ref = await self._file_ref(entity, record_id, field)
        if ref is None:
            raise self.file_not_found(entity, record_id, field)
        url = self._client.url("data", entity, record_id, "files", ref["id"])
        async with files.download(self.upstream, url, ref.get("name")) as download:
            yield download

    async def put_file(
        self, entity: str, record_id: str, field: str, *, filename: str, content_type: str,
        chunks: AsyncIterable[bytes], size: int | None,
    ) -> FileInfo:
        await self._file_ref(entity, record_id, field)  # 404 before streaming; token proven
        uploaded = await files.upload(
            self.upstream, self._client.url("files"), filename=filename,
            content_type=content_type, chunks=chunks,
        )
        await self.update(entity, record_id, {field: {"id": uploaded["fileId"]}}, None)
        return FileInfo(filename=filename, content_type=content_type, size=size)

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        if await self._file_ref(entity, record_id, field) is None:
            raise self.file_not_found(entity, record_id, field)
        await self.update(entity, record_id, {field: None}, None)

    # -- lifecycle ---------------------------------------------------------------------------

    # check: a login proves the app answers and our credentials work; aclose: forget the
    # token (Slingr has no logout call and tokens expire when idle). Both from HttpConnector.
