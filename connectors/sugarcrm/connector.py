"""SugarConnector: the Connector protocol for SugarCRM v10, assembled from this package's parts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any

import aiohttp
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from connectors.sugarcrm.auth import SugarTokenSource, auth_header
from connectors.sugarcrm.batch import BULK_LIMIT, api_version, sub_request, sub_response
from connectors.sugarcrm.client import SugarClient
from connectors.sugarcrm.config import SugarSource
from connectors.sugarcrm.errors import TABLE
from connectors.sugarcrm.metadata import entity_from_config, entity_from_metadata
from connectors.sugarcrm.query import capabilities, order_by, pushable, to_filter
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
from gateway.errors import (
    BackendFailure,
    GatewayError,
    InvalidRequest,
    NotFound,
    SourceInfo,
    Unsupported,
)
from gateway.kit.base import HttpConnector
from gateway.query.model import Condition, Filter
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy

__all__ = ["NOISE_FIELDS", "SugarConnector", "download_filename"]

# Sugar adds these to every record, outside its field metadata. They describe the record as
# seen by the gateway's own Sugar user (its ACL, favourites, follows, locks), not by the
# consumer, so they are never shown; `fields` naming one is a 400 like any unknown field.
NOISE_FIELDS = frozenset(
    {"_acl", "_module", "locked_fields", "my_favorite", "following", "_erased_fields"}
)
# Sugar writes ``attachment; filename="<name>"`` with the stored name as it is: no escaping of
# quotes or backslashes, raw UTF-8. Take everything up to the last quote.
_SUGAR_FILENAME = re.compile(r'filename="(.*)"', re.DOTALL)


def download_filename(disposition: str | None) -> str | None:
    """The file name in a Sugar download's Content-Disposition (image fields send none)."""
    if not disposition:
        return None
    if "filename*=" in disposition:  # a proxy in front rewrote it in the RFC 6266 form
        _, params = parse_content_disposition(disposition)
        return content_disposition_filename(params, "filename")
    found = _SUGAR_FILENAME.search(disposition)
    return found.group(1) if found else None


def present(record: dict[str, Any], fields: tuple[str, ...] | None) -> Record:
    """A Sugar record as the gateway shows it: ``id`` always, asked fields, no Sugar noise."""
    if fields is None:
        return {k: v for k, v in record.items() if k not in NOISE_FIELDS}
    keep = {"id", *fields} - NOISE_FIELDS  # even when a config entity declares one
    return {k: v for k, v in record.items() if k in keep}


class SugarConnector(HttpConnector):
    """One Sugar source for one set of credentials; does not own the shared session."""

    backend = "SugarCRM"
    table = TABLE

    def __init__(
        self,
        name: str,
        config: SugarSource,
        session: aiohttp.ClientSession,
        ctx: UpstreamContext,
        *,
        policy: RetryPolicy | None = None,
        token_skew: float = 60.0,
    ) -> None:
        self.config = config
        super().__init__(name, config, session, ctx, policy=policy, token_skew=token_skew,
                         secrets=[config.auth.password.get_secret_value(),
                                  config.auth.clientSecret.get_secret_value()])
        self.capabilities = replace(capabilities(config.maxPerCall), files=True)
        self._client = SugarClient(self.upstream, config.base_url)
        self._version = api_version(config.base_url)

    def token_source(self) -> SugarTokenSource:
        self._auth = SugarTokenSource(self.upstream, self.config)
        return self._auth

    def auth_header(self, access: str) -> Mapping[str, str]:
        return auth_header(access)

    # -- discovery ---------------------------------------------------------------------------

    async def describe(self, entity: str) -> EntityInfo:
        """Fields from Sugar's metadata (5 min cache), overridden by the config's."""
        self.check_entity(entity)
        return await self.described(entity, partial(self._describe, entity))

    async def _describe(self, entity: str) -> EntityInfo:
        configured = self.config.entities.get(entity) if self.config.entities else None
        try:
            modules = await self._client.metadata(entity)
        except NotFound:
            if configured is None:
                raise self.unknown_entity(entity) from None
            modules = {}  # no metadata endpoint: the config describes the entity
        meta = modules.get(entity)
        if isinstance(meta, dict):
            info = entity_from_metadata(entity, meta)
            return entity_from_config(entity, configured, info) if configured else info
        if configured is not None:
            return entity_from_config(entity, configured)
        raise self.unknown_entity(entity)

    async def entities(self) -> list[EntityInfo]:
        if self.config.entities is not None:
            return [await self.describe(name) for name in self.config.entities]
        modules = await self._client.metadata(None)
        found = []
        for name, meta in sorted(modules.items()):
            if isinstance(meta, dict):
                info = entity_from_metadata(name, meta)
                self.meta[name] = info
                found.append(info)
        return found

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return pushable(condition, entity.field(condition.field))

    # -- reads -------------------------------------------------------------------------------

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        if limit <= 0:
            return Page([], more=None)  # Sugar reads max_num 0 as 20 and negative as "all"
        body: dict[str, Any] = {"max_num": min(limit, self.capabilities.max_page), "offset": offset}
        flt = to_filter(pushed.filter, entity.fields)
        if flt:
            body["filter"] = flt
        ob = order_by(pushed.order_by)
        if ob:
            body["order_by"] = ob
        if pushed.fields is not None:
            body["fields"] = list(dict.fromkeys(["id", *pushed.fields]))
        records, nxt = await self._client.filter(entity.name, body)
        if nxt != -1 and nxt <= offset:
            raise BackendFailure(
                "paging_stuck", {"source": self.name, "entity": entity.name},
                sent=True, source=SourceInfo(self.name, 200, "paging_loop"),
            )
        return Page([present(r, pushed.fields) for r in records], more=nxt != -1)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        return await self._client.count(entity.name, to_filter(filter, entity.fields))

    def _not_found(self, entity: str, record_id: str, exc: NotFound) -> NotFound:
        if exc.source is not None and exc.source.error == "no_method":
            return self.unknown_entity(entity, exc.source)
        return self.record_not_found(entity, record_id, exc.source)

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        self.check_entity(entity)
        asked = list(dict.fromkeys(["id", *fields])) if fields is not None else None
        try:
            record = await self._client.get(entity, record_id, asked)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        return present(record, fields)

    # -- writes (never repeated unless provably unsent) -------------------------------------

    async def create(self, entity: str, data: Record) -> Record:
        self.check_entity(entity)
        try:
            record = await self._client.create(entity, dict(data))
        except NotFound as exc:
            raise self.unknown_entity(entity, exc.source) from None
        return present(record, None)

    async def update(
        self, entity: str, record_id: str, data: Record, version: str | None
    ) -> Record:
        self.check_entity(entity)
        body = dict(data)
        if body.get("id") == record_id:
            del body["id"]  # Sugar refuses only a different id; the same one is noise
        try:
            record = await self._client.update(entity, record_id, body, version)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        return present(record, None)

    async def delete(self, entity: str, record_id: str) -> None:
        self.check_entity(entity)
        try:
            await self._client.delete(entity, record_id)
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None

    # -- native batches: one POST /bulk per call (for /v1/bulk) -----------------------------

    async def write_batch(
        self, entity: str, ops: Sequence[BatchOp], *, fail_on_first: bool = False
    ) -> list[BatchOutcome]:
        """All ``ops`` as the items of one ``/bulk`` call, each judged as the same call alone
        would be. Sugar runs every item, so ``fail_on_first`` cannot be honoured here; a lost
        answer raises (``/bulk`` is a write: never resent), and then any item may have run."""
        self.check_entity(entity)
        if fail_on_first:
            raise Unsupported("batch_cannot_stop", {"source": self.name, "backend": "SugarCRM"})
        if len(ops) > BULK_LIMIT:
            raise InvalidRequest("batch_too_large",
                                 {"source": self.name, "backend": "SugarCRM", "limit": BULK_LIMIT})
        out: list[BatchOutcome | None] = []
        requests: list[dict[str, Any]] = []
        for op in ops:
            try:
                requests.append(sub_request(self._version, entity, op))
                out.append(None)
            except InvalidRequest as exc:  # refused before sending, as the single call is
                out.append(BatchOutcome(error=exc))
        answers = iter(await self._client.bulk(requests) if requests else [])
        return [done if done is not None else self._item_outcome(entity, op, next(answers))
                for op, done in zip(ops, out, strict=True)]

    def _item_outcome(self, entity: str, op: BatchOp, item: Any) -> BatchOutcome:
        try:
            resp = sub_response(self.name, item)
        except BackendFailure as exc:
            return BatchOutcome(error=exc)
        if not resp.ok:
            err = self.upstream.classify(op.action, resp)
            if isinstance(err, NotFound):
                err = (self.unknown_entity(entity, err.source) if op.action == "create"
                       else self._not_found(entity, op.record_id or "", err))
            return BatchOutcome(error=err)
        if op.action == "delete":
            return BatchOutcome(record={"id": op.record_id})
        body = resp.json_or_none()
        if not isinstance(body, dict):
            return BatchOutcome(error=self.malformed(op.action, resp.status))
        return BatchOutcome(record=present(body, None))

    # -- files on record fields (FileApi; writes never repeated once the body flowed) --------

    async def _why_missing(
        self, entity: str, record_id: str, field: str, exc: NotFound
    ) -> NotFound:
        """Sugar answers the same ``404 not_found`` for a missing record and an empty field;
        one read of the record tells which (only on this error path)."""
        if exc.source is not None and exc.source.error == "no_method":
            return self.unknown_entity(entity, exc.source)
        try:
            await self._client.get(entity, record_id, ["id"])
        except NotFound as again:
            return self._not_found(entity, record_id, again)
        return self.file_not_found(entity, record_id, field, exc.source)

    @asynccontextmanager
    async def open_file(
        self, entity: str, record_id: str, field: str
    ) -> AsyncIterator[FileDownload]:
        """The file's answer stays open while the caller copies ``chunks`` out."""
        self.check_entity(entity)
        async with AsyncExitStack() as stack:
            try:
                resp = await stack.enter_async_context(
                    self._client.download(entity, record_id, field)
                )
            except NotFound as exc:
                raise await self._why_missing(entity, record_id, field, exc) from None
            info = FileInfo(
                filename=download_filename(resp.headers.get("Content-Disposition")),
                content_type=resp.headers.get("Content-Type") or "application/octet-stream",
                # aiohttp inflates a compressed answer: its length is not the file's then.
                size=None if "Content-Encoding" in resp.headers else resp.content_length,
            )
            yield FileDownload(info, self.upstream.chunks(resp))

    async def put_file(
        self,
        entity: str,
        record_id: str,
        field: str,
        *,
        filename: str,
        content_type: str,
        chunks: AsyncIterable[bytes],
        size: int | None,
    ) -> FileInfo:
        self.check_entity(entity)
        try:
            answer = await self._client.upload(
                entity, record_id, field, filename=filename, content_type=content_type,
                chunks=chunks, size=size,
            )
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        # What Sugar says it stored: it detects the type itself, and an image field keeps
        # Sugar's own id as the name.
        stored = answer.get(field)
        stored = stored if isinstance(stored, dict) else {}
        name, ctype, length = stored.get("name"), stored.get("content-type"), stored.get(
            "content-length")
        return FileInfo(
            filename=name if isinstance(name, str) and name else filename,
            content_type=ctype if isinstance(ctype, str) and ctype else content_type,
            size=int(length) if isinstance(length, int | str) and str(length).isdigit()
            else size,
        )

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        self.check_entity(entity)
        try:
            record = await self._client.get(entity, record_id, ["id", field])
        except NotFound as exc:
            raise self._not_found(entity, record_id, exc) from None
        if not record.get(field):
            # Sugar removes nothing from an empty field and still answers 200.
            raise self.file_not_found(entity, record_id, field, None)
        try:
            await self._client.remove_file(entity, record_id, field)
        except NotFound as exc:
            raise await self._why_missing(entity, record_id, field, exc) from None

    # -- lifecycle ---------------------------------------------------------------------------

    async def check(self) -> None:
        await super().check()
        await self._client.ping()

    async def aclose(self) -> None:
        """End our Sugar session (frees the user's per-platform slot); the session is shared."""
        token = self.tokens.clear() if self.tokens is not None else None
        if token is None:
            return
        try:
            async with asyncio.timeout(min(5.0, self.upstream.ctx.timeout)):
                await self._auth.logout(token)
        except (GatewayError, TimeoutError):
            pass  # the token expires by itself; closing must not fail
