"""SlingrConnector: the Connector protocol for the Slingr runtime API, assembled from its parts."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import aiohttp
from cachetools import TTLCache

from connectors.slingr import files
from connectors.slingr.auth import SlingrTokenSource, auth_header
from connectors.slingr.client import SlingrClient
from connectors.slingr.config import SlingrSource
from connectors.slingr.errors import classify
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
    NotFound,
    SourceInfo,
    Unsupported,
)
from gateway.query.model import Condition, Filter
from gateway.upstream.client import Upstream
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.tokens import TokenCache

__all__ = ["DELETE_CHUNK", "SAMPLE_SIZE", "SlingrConnector"]

_METADATA_TTL = 300.0
SAMPLE_SIZE = 200  # records read to infer an unconfigured entity's fields


def present(record: dict[str, Any], fields: tuple[str, ...] | None) -> Rec:
    """A Slingr record as the gateway shows it: all of it, or ``id`` and the asked fields; a
    dotted field (``contactInformation.email``) keeps the object it lies in, which Slingr
    answers cut to the asked paths and the gateway reads the value from."""
    if fields is None:
        return record
    keep = {"id", *(name.split(".", 1)[0] for name in fields)}
    return {k: v for k, v in record.items() if k in keep}


class SlingrConnector:
    """One Slingr app for one set of credentials; does not own the shared session."""

    def __init__(
        self,
        name: str,
        config: SlingrSource,
        session: aiohttp.ClientSession,
        ctx: UpstreamContext,
        *,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.capabilities = capabilities(config.maxPerCall)
        self._upstream = Upstream(session, ctx, partial(classify, name), policy=policy)
        self._tokens = TokenCache(SlingrTokenSource(self._upstream, config), ctx)
        self._upstream.use_auth(self._tokens, auth_header)
        self._client = SlingrClient(self._upstream, config.base_url)
        self._meta: TTLCache[str, EntityInfo] = TTLCache(maxsize=512, ttl=_METADATA_TTL)
        ctx.redactor.add(config.auth.password.get_secret_value())

    # -- discovery ---------------------------------------------------------------------------

    def _unknown_entity(self, entity: str, source: SourceInfo | None = None) -> NotFound:
        return NotFound(
            f"Entity {entity} was not found in {self.name}", key="unknown_entity",
            params={"source": self.name, "entity": entity}, source=source,
        )

    def _not_found(self, entity: str, record_id: str, exc: NotFound) -> NotFound:
        return NotFound(
            f"Record {record_id} was not found in {self.name}/{entity}", key="record_not_found",
            params={"source": self.name, "entity": entity, "id": record_id}, source=exc.source,
        )

    async def describe(self, entity: str) -> EntityInfo:
        """Configured fields, else fields inferred from a sample (either cached 5 min)."""
        cached = self._meta.get(entity)
        if cached is not None:
            return cached
        if self.config.entities is not None:
            configured = self.config.entities.get(entity)
            if configured is None:
                raise self._unknown_entity(entity)
            info = entity_from_config(entity, configured)
        else:
            try:
                sample = await self._client.query(entity, {"_size": str(SAMPLE_SIZE)})
            except NotFound as exc:
                raise self._unknown_entity(entity, exc.source) from None
            info = entity_from_sample(entity, sample.items)
        self._meta[entity] = info
        return info

    async def entities(self) -> list[EntityInfo]:
        if self.config.entities is None:
            raise Unsupported(
                f"{self.name}: Slingr's runtime API does not list entities; name them under "
                "`entities:` in this source's config"
            )
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
            raise self._unknown_entity(entity, exc.source) from None

    async def update(self, entity: str, record_id: str, data: Rec, version: str | None) -> Rec:
        body = {k: v for k, v in data.items() if k not in ("id", "version", "label")}
        if version is not None:
            if not version.strip().isdigit():
                raise InvalidRequest(
                    f"Slingr versions are whole numbers, not {version!r}", key="bad_version",
                )
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
                f"{self.name}: Slingr's delete of {len(chunk)} ids answered for "
                f"{len(widened)} other records ({', '.join(widened[:5])})", sent=True,
                source=SourceInfo(self.name, 200, "widened_delete"),
            )
        return {rid: self._outcome(entity, rid, answer.get(rid)) for rid in chunk}

    async def write_batch(
        self, entity: str, ops: Sequence[BatchOp], *, fail_on_first: bool = False
    ) -> list[BatchOutcome]:
        """Deletes by id list (Slingr has no batch create or update): one call for the ops,
        or one more each time an id comes back (the answer is keyed by id, so one call cannot
        say what each of two deletes of the same record did)."""
        if fail_on_first:
            raise Unsupported(f"{self.name}: Slingr's delete by ids runs every id; it cannot "
                              "stop at the first failure")
        if any(op.action != "delete" for op in ops):
            raise Unsupported(f"{self.name}: Slingr batches deletes only")
        if len(ops) > DELETE_CHUNK:
            raise InvalidRequest(f"{self.name}: at most {DELETE_CHUNK} deletes per call")
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
                out[i] = BatchOutcome(error=InvalidRequest("A batch delete needs the record id"))
                continue
            if any(ops[j].record_id == op.record_id for j in chunk):
                await flush()
            chunk.append(i)
        if chunk:
            await flush()
        return [o if o is not None else BatchOutcome(error=InvalidRequest("not run"))
                for o in out]

    def _outcome(self, entity: str, rid: str, item: Any) -> GatewayError | None:
        if isinstance(item, dict) and item.get("status") == "ok":
            return None
        message = item.get("errorMessage") if isinstance(item, dict) else None
        info = SourceInfo(self.name, 200, "error")
        if message is None or "not found" in str(message).lower() or "exist" in str(message):
            return NotFound(
                f"Record {rid} was not found in {self.name}/{entity}", key="record_not_found",
                params={"source": self.name, "entity": entity, "id": rid}, source=info,
            )
        return InvalidRequest(f"{self.name}: {message}", source=info)

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
            raise InvalidRequest(f"Field {field} of {entity} does not hold a file")
        return ref

    def _no_file(self, entity: str, record_id: str, field: str) -> NotFound:
        return NotFound(f"Record {record_id} of {self.name}/{entity} has no file in {field}")

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
            raise self._no_file(entity, record_id, field)
        url = self._client.url("data", entity, record_id, "files", ref["id"])
        async with files.download(self._upstream, url, ref.get("name")) as download:
            yield download

    async def put_file(
        self, entity: str, record_id: str, field: str, *, filename: str, content_type: str,
        chunks: AsyncIterable[bytes], size: int | None,
    ) -> FileInfo:
        await self._file_ref(entity, record_id, field)  # 404 before streaming; token proven
        uploaded = await files.upload(
            self._upstream, self._client.url("files"), filename=filename,
            content_type=content_type, chunks=chunks,
        )
        await self.update(entity, record_id, {field: {"id": uploaded["fileId"]}}, None)
        return FileInfo(filename=filename, content_type=content_type, size=size)

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        if await self._file_ref(entity, record_id, field) is None:
            raise self._no_file(entity, record_id, field)
        await self.update(entity, record_id, {field: None}, None)

    # -- lifecycle ---------------------------------------------------------------------------

    async def check(self) -> None:
        """A login proves the app answers and our credentials work."""
        await self._tokens.get()

    async def aclose(self) -> None:
        """Forget the token; Slingr has no logout call and tokens expire when idle."""
        self._tokens.clear()
