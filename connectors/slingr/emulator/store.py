"""Slingr record store: records in REST shape per entity, ObjectId-like ids, files and jobs."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connectors.slingr.emulator.schema import ENTITIES, EntityDef, FieldDef

__all__ = ["FileData", "ObjectIds", "RecordStore", "canonical", "now_ms"]

Record = dict[str, Any]


def now_ms() -> int:
    return int(time.time() * 1000)


class ObjectIds:
    """Mongo ObjectId-like ids: 4 bytes of seconds, a fixed 5-byte machine part, a counter.

    Ids therefore sort by creation time, which is what makes Slingr's default `id desc` mean
    newest first; tests set `counter` (and the clock) to replay the seed's literal ids."""

    def __init__(self, machine: str = "3b063a0007", counter: int = 0x604000) -> None:
        self.machine = machine
        self.counter = counter

    def new(self, ms: int) -> str:
        self.counter = (self.counter + 1) & 0xFFFFFF
        return f"{(ms // 1000) & 0xFFFFFFFF:08x}{self.machine}{self.counter:06x}"


@dataclass
class FileData:
    id: str
    name: str
    content_type: str
    data: bytes
    created: int
    owner: str | None = None  # who may download it without being a developer (exports)


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _group(fdef: FieldDef, item: dict[str, Any], ids: ObjectIds,
           clock: Callable[[], int]) -> dict[str, Any]:
    """A nested group in answer order: inner fields, then its `id` and `label`."""
    out = {f.name: item[f.name] for f in fdef.fields if not _empty(item.get(f.name))}
    out["id"] = item.get("id") or ids.new(clock())
    out["label"] = fdef.item_label(out) if fdef.item_label else fdef.label
    return out


def canonical(entity: EntityDef, record: Record, ids: ObjectIds,
              clock: Callable[[], int]) -> Record:
    """The record in Slingr's answer order; empty fields left out, nested ids/labels filled."""
    fields: Record = {}
    for fdef in entity.fields:
        value = record.get(fdef.name)
        if _empty(value):
            continue
        if fdef.type == "nested_fields":
            value = ([_group(fdef, item, ids, clock) for item in value or []] if fdef.multi
                     else _group(fdef, value or {}, ids, clock))
        fields[fdef.name] = value
    out: Record = {"id": record.get("id") or ids.new(clock()),
                   "version": int(record.get("version") or 0)}
    out["label"] = entity.label(fields)
    out.update(fields)
    return out


class RecordStore:
    """Records of every entity keyed by id, plus uploaded files and jobs."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        self._clock_fn = clock
        self._pinned: int | None = None
        self.last_read: int | None = None  # the latest clock value read (None: none since set)
        # A seed: records with equal sort values come in an order drawn from it, not by id (the
        # docs give no tie order and MongoDB promises none). None: by id, the default.
        self.shuffle_ties: int | None = None
        self.ids = ObjectIds()
        self._records: dict[str, dict[str, Record]] = {name: {} for name in ENTITIES}
        self.files: dict[str, FileData] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.generation = 0  # bumped by every insert, put and delete
        # Sorted lists of an entity's records kept between list calls (query.sorted_records).
        self.orders: dict[tuple[Any, ...], tuple[int, list[Any], list[Record]]] = {}

    @property
    def clock(self) -> Callable[[], int]:
        """The epoch-ms clock; each read is remembered in `last_read` (the `Date` header)."""
        return self._read

    @clock.setter
    def clock(self, value: Callable[[], int]) -> None:
        if value != self._read:  # giving back the clock read earlier changes nothing
            self._clock_fn = value
            self.last_read = None

    def _read(self) -> int:
        self.last_read = self._clock_fn() if self._pinned is None else self._pinned
        return self.last_read

    @contextmanager
    def stamped(self, moment: int) -> Iterator[None]:
        """Clock reads inside answer `moment` (when a held write arrived), not the clock."""
        previous, self._pinned = self._pinned, moment
        try:
            yield
        finally:
            self._pinned = previous

    def clock_is_default(self) -> bool:
        return self._clock_fn is now_ms and self._pinned is None

    def tie_key(self, record_id: str) -> str:
        if self.shuffle_ties is None:
            return record_id
        return hashlib.sha256(f"{self.shuffle_ties}:{record_id}".encode()).hexdigest()

    def new_id(self) -> str:
        return self.ids.new(self.clock())

    # --- the public surface used by tests and seeding -----------------------------------------

    def insert(self, entity: str, record: Record) -> Record:
        """Store a record given in REST shape; fills id, version (0), label and nested ids."""
        table = self._records[entity]
        row = canonical(ENTITIES[entity], record, self.ids, self.clock)
        if row["id"] in table:
            raise KeyError(f"record {row['id']} already exists in {entity}")
        table[row["id"]] = row
        self.generation += 1
        return row

    def get(self, entity: str, record_id: str) -> Record | None:
        return self._records.get(entity, {}).get(record_id)

    def all(self, entity: str) -> list[Record]:
        """Every record of the entity, in insertion order."""
        return list(self._records[entity].values())

    # --- writes the API performs --------------------------------------------------------------

    def put(self, entity: str, record: Record) -> Record:
        row = canonical(ENTITIES[entity], record, self.ids, self.clock)
        self._records[entity][row["id"]] = row
        self.generation += 1
        return row

    def delete(self, entity: str, record_id: str) -> Record:
        row = self._records[entity].pop(record_id)
        self.generation += 1
        return row
