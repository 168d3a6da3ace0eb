"""Data Service insert/update/delete-batch: ops → same-action chunks, answers → one outcome per op.

Wire facts in /work/shared/backends/uipath-data-service.md §8: array order, ``failOnFirst``
stops at the first failure, ``successRecords`` hold the stored records (in order) and each
``failureRecords`` entry is ``{"error": "<message>", "record": <the submitted item>}``. A failure
carries no status, so it is judged as the single call's answer would be: a message saying the
record does not exist is that call's 404, any other the 400 the service gives bad values (the
same table, :func:`connectors.dataservice.errors.classify`, reads both).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from connectors.dataservice.client import DataServiceClient
from connectors.dataservice.errors import BatchRejected
from gateway.connector import BatchAction, BatchOp, BatchOutcome, Record
from gateway.errors import (
    BackendFailure,
    Conflict,
    GatewayError,
    InvalidRequest,
    NotFound,
    SourceInfo,
)
from gateway.state.lock import RecordLocks
from gateway.upstream.client import UpstreamResponse

__all__ = ["BATCH_LIMIT", "SYSTEM_FIELDS", "Batches", "ItemOutcome", "item_key", "outcomes",
           "same_instant", "version_conflict"]

# Records per batch call: the most the Studio batch activity sends; the REST limit is unknown.
BATCH_LIMIT = 1000
# Set by the service; sent back they are ignored at best, so batch answers are matched without them.
SYSTEM_FIELDS = frozenset({"Id", "CreatedBy", "CreateTime", "UpdatedBy", "UpdateTime",
                           "RecordOwner"})
# (operation name for metrics and the error table, path) per action
_CALLS: dict[str, tuple[str, str]] = {"create": ("insert_batch", "insert-batch"),
                                      "update": ("update_batch", "update-batch"),
                                      "delete": ("delete_batch", "delete-batch")}
_MISSING = re.compile(r"does not exist|not found|no record", re.IGNORECASE)
# Batch (like list) answers show MULTILINE_MAX text as this marker; the single calls do not.
_MARKER = re.compile(r"^HasValue=(true|false) Length=\d+$")

Status = Literal["ok", "failed", "not_executed", "unreported"]
Classify = Callable[[str, UpstreamResponse], GatewayError]
Present = Callable[[dict[str, Any]], Record]
MissingRecord = Callable[[str, str, NotFound], NotFound]
LockKey = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to item ``index`` of one batch call: stored (``record``), refused
    (``error``, the service's text), never tried because an earlier item failed with
    ``failOnFirst``, or not reported at all (then whether it ran is unknown)."""

    index: int
    status: Status
    record: Record | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def same_instant(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False


def item_key(action: str, item: Any) -> Any:
    """What identifies a submitted item in the answer: the Id for update and delete (GUIDs in
    any case), the submitted record itself for insert."""
    if action == "create":
        if not isinstance(item, dict):
            return None
        own = {k: v for k, v in item.items() if k not in SYSTEM_FIELDS}
        return orjson.dumps(own, option=orjson.OPT_SORT_KEYS)
    if isinstance(item, dict):
        item = item.get("Id")
    return str(item).lower() if item is not None else None


def _failures(answer: dict[str, Any]) -> list[dict[str, Any]]:
    # The docs render failureRecords as one object, the SDKs as a list: accept both.
    raw = answer.get("failureRecords")
    if isinstance(raw, dict):
        raw = [raw]
    return [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []


def version_conflict(source: str, entity: str, record_id: str, version: str) -> Conflict:
    """What an update with a stale ``version`` raises (the service has no locking of its own)."""
    return Conflict("version_changed",
                    {"id": record_id, "source": source, "entity": entity, "version": version},
                    source=SourceInfo(source, None, "version_mismatch"))


def _answer(status: int, message: str) -> UpstreamResponse:
    """A per-record failure as the single call's own error answer, for the one error table."""
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict()),
                            orjson.dumps({"error": message}))


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(slots=True)
class _Entry:
    index: int
    op: BatchOp
    item: Any = None
    key: Any = None
    refused: GatewayError | None = None  # known before sending: the op is not sent


class Batches:
    """``write_batch`` of one connector: same-action chunks (a repeated record starts a new one,
    so the answer can say what each op did), versioned updates checked first, answers mapped.
    An update chunk holds the locks of all its records (the single update's locks) from the
    version check to the batch call's answer."""

    def __init__(self, client: DataServiceClient, source: str, classify: Classify,
                 present: Present, missing: MissingRecord,
                 wire: Callable[[Record], dict[str, Any]], locks: RecordLocks,
                 lock_key: LockKey) -> None:
        self._locks = locks
        self._lock_key = lock_key
        self._client = client
        self._source = source
        self._classify = classify
        self._present = present
        self._missing = missing
        self._wire = wire

    async def run(self, entity: str, ops: Sequence[BatchOp], fail_on_first: bool
                  ) -> list[BatchOutcome]:
        if len(ops) > BATCH_LIMIT:
            raise InvalidRequest("batch_too_large", {
                "source": self._source, "backend": "Data Service", "limit": BATCH_LIMIT})
        out: dict[int, BatchOutcome] = {}
        stopped = False
        for chunk in self._chunks(ops):
            if stopped:
                out.update((e.index, BatchOutcome(executed=False)) for e in chunk)
            else:
                stopped = await self._chunk(entity, chunk, fail_on_first, out)
        return [out[i] for i in range(len(ops))]

    # -- planning ------------------------------------------------------------------------------

    def _entry(self, index: int, op: BatchOp) -> _Entry:
        entry = _Entry(index, op)
        try:
            entry.item = self._item(op)
        except InvalidRequest as exc:  # refused as the single call would refuse it
            entry.refused = exc
        else:
            entry.key = item_key(op.action, entry.item)
        return entry

    def _item(self, op: BatchOp) -> Any:
        if op.action == "create":
            if op.data is None:
                raise InvalidRequest("batch_needs_data")
            return self._wire(op.data)
        if not op.record_id:
            raise InvalidRequest("batch_needs_id", {"action": op.action})
        if op.action == "delete":
            return op.record_id
        body = self._wire(op.data or {})
        if "Id" in body and str(body.pop("Id")) != op.record_id:
            raise InvalidRequest("id_immutable")
        return {"Id": op.record_id, **body}

    def _chunks(self, ops: Sequence[BatchOp]) -> list[list[_Entry]]:
        chunks: list[list[_Entry]] = []
        current: list[_Entry] = []
        keys: set[Any] = set()
        for index, op in enumerate(ops):
            entry = self._entry(index, op)
            if current and (current[0].op.action != op.action or
                            (entry.refused is None and entry.key in keys)):
                chunks.append(current)
                current, keys = [], set()
            current.append(entry)
            if entry.refused is None:
                keys.add(entry.key)
        if current:
            chunks.append(current)
        return chunks

    # -- one chunk: at most one batch call (and one read when it has versioned updates) --------

    async def _chunk(self, entity: str, chunk: list[_Entry], fail_on_first: bool,
                     out: dict[int, BatchOutcome]) -> bool:
        """Run one chunk into ``out``; True when ``fail_on_first`` must stop the rest."""
        refused = {e.index: e.refused for e in chunk if e.refused is not None}
        records = [self._lock_key(entity, e.op.record_id or "") for e in chunk
                   if e.refused is None and e.op.action == "update"]
        async with self._locks.hold(records) as held:
            versioned = [e for e in chunk if e.refused is None and e.op.action == "update"
                         and e.op.version is not None]
            if versioned:
                refused |= await self._stale(entity, versioned)
            first = min(refused, default=None)
            if fail_on_first and first is not None:
                send = [e for e in chunk if e.index < first]
            else:
                send = [e for e in chunk if e.index not in refused]
            if send:
                await held.confirm()
            failed = await self._send(entity, send, fail_on_first, out)
        if fail_on_first and (failed or first is not None):
            for e in chunk:
                if e.index == first and not failed:
                    out[e.index] = BatchOutcome(error=refused[e.index])
                elif e.index not in out:
                    out[e.index] = BatchOutcome(executed=False)
            return True
        out.update((index, BatchOutcome(error=err)) for index, err in refused.items())
        return False

    async def _stale(self, entity: str, versioned: list[_Entry]) -> dict[int, GatewayError]:
        """The single update's version check for every versioned op, by one query on their Ids
        (paged only if the service caps it below their number), under the records' locks."""
        ids = list(dict.fromkeys(e.op.record_id or "" for e in versioned
                                 if _is_guid(e.op.record_id or "")))
        stamps: dict[str, Any] = {}
        start = 0
        while ids:
            body = {"filterGroup": {"logicalOperator": 0, "queryFilters": [
                        {"fieldName": "Id", "operator": "in", "valueList": ids}]},
                    "selectedFields": ["Id", "UpdateTime"], "start": start, "limit": len(ids)}
            records, total = await self._client.query(entity, body, op="get")
            stamps |= {str(r.get("Id")).lower(): r.get("UpdateTime") for r in records}
            start += len(records)
            if not records or total is None or start >= total:
                break
        found: dict[int, GatewayError] = {}
        for e in versioned:
            rid, version = e.op.record_id or "", e.op.version or ""
            if rid.lower() not in stamps:
                gone = self._classify("get", _answer(404, f"Record with Id '{rid}' does not "
                                                          f"exist in entity '{entity}'."))
                found[e.index] = (self._missing(entity, rid, gone) if isinstance(gone, NotFound)
                                  else gone)
                continue
            stamp = stamps[rid.lower()]
            if not isinstance(stamp, str) or not same_instant(stamp, version):
                found[e.index] = version_conflict(self._source, entity, rid, version)
        return found

    async def _send(self, entity: str, send: list[_Entry], fail_on_first: bool,
                    out: dict[int, BatchOutcome]) -> bool:
        """One batch call for ``send`` (all the same action); True when an op failed."""
        if not send:
            return False
        action: BatchAction = send[0].op.action
        op_name, path = _CALLS[action]
        items = [e.item for e in send]
        try:
            answer = await self._client.batch(op_name, entity, path, items, fail_on_first)
        except BatchRejected as exc:  # per-record failures reported as a 400
            answer = exc.answer
        found = outcomes(items, answer, lambda i: item_key(action, i), dict,
                         fail_on_first=fail_on_first, by_key=action != "create")
        if found is None:
            raise self._client.bad(op_name)
        for entry, got in zip(send, found, strict=True):
            out[entry.index] = self._outcome(entity, entry, got)
        return any(got.status == "failed" for got in found)

    def _outcome(self, entity: str, entry: _Entry, got: ItemOutcome) -> BatchOutcome:
        op = entry.op
        if got.status == "ok" and got.record is not None:
            if op.action == "delete":
                return BatchOutcome(record={"id": op.record_id})
            return BatchOutcome(record=self._present(_full_text(got.record, entry.item)))
        if got.status == "not_executed":
            return BatchOutcome(executed=False)
        if got.status == "failed":
            return BatchOutcome(error=self._failure(entity, op, got.error or ""))
        return BatchOutcome(error=BackendFailure(
            "batch_item_unreported", {"source": self._source, "backend": "The Data Service",
                                      "number": got.index + 1}, sent=True,
            source=SourceInfo(self._source, 200, "unreported"),
        ))

    def _failure(self, entity: str, op: BatchOp, message: str) -> GatewayError:
        """A failure entry as the error the same op alone would raise."""
        if op.action != "create" and _MISSING.search(message):
            err = self._classify(op.action, _answer(404, message))
            return self._missing(entity, op.record_id or "", err) if isinstance(err, NotFound) \
                else err
        return self._classify(op.action, _answer(400, message))


def _full_text(record: dict[str, Any], item: Any) -> dict[str, Any]:
    """Batch answers show long text as a size marker where the single calls give the text: put
    back what was sent (text the op did not send stays a marker, as a query shows it)."""
    if not isinstance(item, dict):
        return record
    return {k: item[k] if isinstance(v, str) and _MARKER.match(v) and isinstance(item.get(k), str)
            else v for k, v in record.items()}


def outcomes(
    items: list[Any],
    answer: Any,
    key: Callable[[Any], Any],
    present: Callable[[dict[str, Any]], Record],
    *,
    fail_on_first: bool,
    by_key: bool = False,
) -> list[ItemOutcome] | None:
    """Align the answer with the submitted ``items``; None when the answer is not a batch answer.

    ``key`` gives what identifies an item in both lists (the Id for update and delete, the
    submitted record itself for insert). A failure carries the item it was given; successes are
    matched by ``key`` too when ``by_key`` (update, delete), else taken in submission order.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("successRecords"), list):
        return None
    successes = [s for s in answer["successRecords"] if isinstance(s, dict)]
    failures = [(key(f.get("record")), f.get("error")) for f in _failures(answer)]
    out: list[ItemOutcome] = []
    stopped = False
    for index, item in enumerate(items):
        if stopped:
            out.append(ItemOutcome(index, "not_executed",
                                    error="not executed: an earlier record failed"))
            continue
        k = key(item)
        hit = next((i for i, (fk, _) in enumerate(failures) if fk == k), None)
        if hit is not None:
            _, error = failures.pop(hit)
            out.append(ItemOutcome(index, "failed",
                                    error=str(error) if error else "refused by the Data Service"))
            stopped = fail_on_first
        elif successes:
            pos = next((i for i, s in enumerate(successes) if key(s) == k), None) if by_key else 0
            if pos is None:
                out.append(ItemOutcome(index, "unreported",
                                       error="not reported by the Data Service"))
            else:
                out.append(ItemOutcome(index, "ok", record=present(successes.pop(pos))))
        else:
            # Neither listed (and no failOnFirst stop before it): the service said nothing of
            # it, so whether it ran is unknown.
            out.append(ItemOutcome(index, "unreported",
                                   error="not reported by the Data Service"))
    return out
