"""Data Service record store: rows per entity with server-set Id and audit fields, and files."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.dataservice.emulator.schema import ENTITIES, SYSTEM_FIELDS, FieldDef
from connectors.dataservice.emulator.values import (
    FieldError,
    coerce,
    format_datetime,
    parse_datetime,
    utcnow,
)

__all__ = ["SYSTEM_USER", "FileData", "RecordStore"]

Row = dict[str, Any]
# The user GUID written to CreatedBy/UpdatedBy by seeding (the emulated tenant's admin).
SYSTEM_USER = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@dataclass
class FileData:
    name: str
    content_type: str
    data: bytes


# Ids as asked -> canonical GUID text (each rendered relationship looks its row up by id).
_GUIDS: dict[str, str] = {}
_GUIDS_MAX = 100_000


def _ordered(row: Row) -> Row:
    # The documented samples list fields alphabetically, case-insensitively (CreatedBy first).
    return {key: row[key] for key in sorted(row, key=str.lower)}


class RecordStore:
    """Rows of every entity as the API returns them at expansionLevel 0 (key field `Id`)."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._rows: dict[str, dict[str, Row]] = {name: {} for name in ENTITIES}
        self.files: dict[tuple[str, str, str], FileData] = {}
        # The service clock (aware UTC); tests may replace it. Every stamp below reads it.
        self.clock = clock
        self._pinned: datetime | None = None
        self.generation = 0  # bumped when a row is added or removed
        # Sorted lists of an entity's rows kept between reads (query.sorted_rows).
        self.orders: dict[tuple[Any, ...], tuple[int, list[Any], list[Row]]] = {}

    def now(self) -> datetime:
        """The service clock, or the time a held write arrived (see `stamped`)."""
        return self._pinned if self._pinned is not None else self.clock()

    @contextmanager
    def stamped(self, moment: datetime) -> Iterator[None]:
        """Writes inside stamp `moment` (the time the write arrived) however much later they
        commit: the emulator's stamp-then-commit delay."""
        previous, self._pinned = self._pinned, moment
        try:
            yield
        finally:
            self._pinned = previous

    def _stamp(self) -> str:
        """UpdateTime/CreateTime: the clock at the write, at the millisecond the answers show.
        Nothing makes it unique: two writes in one millisecond share it."""
        return format_datetime(self.now())

    # --- the public surface tests and seeding use -------------------------------------------

    def insert(self, entity: str, record: Row, user: str = SYSTEM_USER) -> Row:
        """Store a record (values checked per field type); a given Id/CreateTime is kept."""
        row = self._build(entity, record, user)
        given = record.get("Id")
        if given is not None:
            row["Id"] = str(uuid.UUID(str(given)))
            if row["Id"] in self._rows[entity]:
                raise FieldError(f"A record with Id '{row['Id']}' already exists.")
        for key in ("CreateTime", "UpdateTime"):
            if isinstance(record.get(key), str) and parse_datetime(record[key]) is not None:
                row[key] = format_datetime(parse_datetime(record[key]))  # type: ignore[arg-type]
        self._rows[entity][row["Id"]] = row
        self.generation += 1
        return dict(row)

    def get(self, entity: str, record_id: Any) -> Row | None:
        row = self.row(entity, record_id)
        return None if row is None else dict(row)

    def all(self, entity: str) -> list[Row]:
        """Every record, in insertion order."""
        return [dict(row) for row in self._rows[entity].values()]

    # --- what the API does -----------------------------------------------------------------

    def row(self, entity: str, record_id: Any) -> Row | None:
        """The live row (not a copy); ids match case-insensitively, as GUIDs do."""
        if not isinstance(record_id, str):
            return None
        key = _GUIDS.get(record_id)
        if key is None:
            try:
                key = str(uuid.UUID(record_id))
            except ValueError:
                return None
            if len(_GUIDS) >= _GUIDS_MAX:
                _GUIDS.clear()
            _GUIDS[record_id] = key
        return self._rows.get(entity, {}).get(key)

    def rows(self, entity: str) -> list[Row]:
        return list(self._rows[entity].values())

    def _values(self, entity: str, record: Row, partial: bool) -> Row:
        fields = ENTITIES[entity].fields
        out: Row = {}
        for name, value in record.items():
            fdef = fields.get(name)
            if name in SYSTEM_FIELDS:
                continue  # server-set; the seed's update-batch body sends them back untouched
            if fdef is None:
                raise FieldError(f"The field '{name}' does not exist in entity '{entity}'.")
            if fdef.type == "FILE":
                continue  # file values in record payloads are silently dropped [UP-SK]
            out[name] = self._check(fdef, coerce(fdef, value))
        if not partial:
            for name, fdef in fields.items():
                if fdef.required and out.get(name) is None:
                    raise FieldError(f"The field '{name}' is required.")
        return out

    def _check(self, fdef: FieldDef, value: Any) -> Any:
        if fdef.type == "RELATIONSHIP" and value is not None \
                and self.row(fdef.target or "", value) is None:
            raise FieldError(f"The related record '{value}' for field '{fdef.name}' does not "
                             f"exist in entity '{fdef.target}'.")
        return value

    def _build(self, entity: str, record: Row, user: str) -> Row:
        if not isinstance(record, dict):
            raise FieldError("The record must be a JSON object.")
        values = self._values(entity, record, partial=False)
        row: Row = {name: None for name in ENTITIES[entity].fields}
        row.update(values)
        stamp = self._stamp()
        row.update(Id=str(uuid.uuid4()), CreatedBy=user, CreateTime=stamp, UpdatedBy=user,
                   UpdateTime=stamp)
        return _ordered(row)

    def create(self, entity: str, record: Row, user: str) -> Row:
        row = self._build(entity, record, user)
        self._rows[entity][row["Id"]] = row
        self.generation += 1
        return row

    def update(self, entity: str, row: Row, changes: Row, user: str) -> Row:
        """Partial update: omitted fields stay, explicit null clears."""
        if not isinstance(changes, dict):
            raise FieldError("The record must be a JSON object.")
        row.update(self._values(entity, changes, partial=True))
        row.update(UpdatedBy=user, UpdateTime=self._stamp())
        return row

    def delete(self, entity: str, row: Row) -> None:
        del self._rows[entity][row["Id"]]
        self.generation += 1
        for key in [k for k in self.files if k[0] == entity and k[1] == row["Id"]]:
            del self.files[key]
        self._unlink(entity, row["Id"])

    def set_file(self, entity: str, row: Row, field: str, blob: FileData | None,
                 user: str) -> None:
        key = (entity, row["Id"], field)
        if blob is None:
            self.files.pop(key, None)
            row[field] = None
        else:
            self.files[key] = blob
            row[field] = {"Name": blob.name, "Path": f"{entity}/{row['Id']}/{field}/{blob.name}",
                          "Size": len(blob.data), "Type": blob.content_type}
        row.update(UpdatedBy=user, UpdateTime=self._stamp())

    def _unlink(self, entity: str, record_id: str) -> None:
        # Relationship fields pointing at a deleted record are cleared (inferred).
        for other in ENTITIES.values():
            for fdef in other.fields.values():
                if fdef.target == entity:
                    for r in self._rows[other.name].values():
                        if r.get(fdef.name) == record_id:
                            r[fdef.name] = None
