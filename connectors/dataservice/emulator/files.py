"""Attachment calls on File fields (upload, download, delete) and the CSV bulk-upload import."""

from __future__ import annotations

import csv
import io
from typing import Any

from connectors.dataservice.emulator.errors import DsError
from connectors.dataservice.emulator.records import Records, not_found
from connectors.dataservice.emulator.schema import EntityDef
from connectors.dataservice.emulator.store import FileData
from connectors.dataservice.emulator.values import FieldError

__all__ = ["Files"]

Row = dict[str, Any]
MAX_FILE_BYTES = 100 * 1024 * 1024  # the service's attachment limit (inferred)


class Files:
    def __init__(self, records: Records) -> None:
        self.records = records
        self.store = records.store

    def _target(self, entity: EntityDef, record_id: str, field: str) -> Row:
        row = self.store.row(entity.name, record_id)
        if row is None:
            raise not_found(entity, record_id)
        fdef = entity.fields.get(field)  # case-sensitive, and must be a File field
        if fdef is None or fdef.type != "FILE":
            raise DsError(400, f"Field '{field}' is not a File field of entity '{entity.name}'.")
        return row

    def upload(self, entity: EntityDef, record_id: str, field: str, part: FileData | None,
               user: str) -> None:
        row = self._target(entity, record_id, field)
        if part is None:
            raise DsError(400, "The request must contain the file in the form field 'file'.")
        if len(part.data) > MAX_FILE_BYTES:
            raise DsError(413, "The file is larger than the allowed size.")
        self.store.set_file(entity.name, row, field, part, user)

    def download(self, entity: EntityDef, record_id: str, field: str) -> FileData:
        row = self._target(entity, record_id, field)
        blob = self.store.files.get((entity.name, row["Id"], field))
        if blob is None:
            raise DsError(404, f"No file is attached to field '{field}' of record '{record_id}'.")
        return blob

    def remove(self, entity: EntityDef, record_id: str, field: str, user: str) -> None:
        row = self._target(entity, record_id, field)
        if (entity.name, row["Id"], field) not in self.store.files:
            raise DsError(404, f"No file is attached to field '{field}' of record '{record_id}'.")
        self.store.set_file(entity.name, row, field, None, user)

    def import_csv(self, entity: EntityDef, part: FileData | None, user: str) -> Row:
        """bulk-upload: a CSV whose header row names fields; bad rows are counted, not stored."""
        if part is None:
            raise DsError(400, "The request must contain the file in the form field 'file'.")
        try:
            text = part.data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DsError(400, "The file must be a UTF-8 encoded CSV file.") from None
        total = inserted = 0
        for line in csv.DictReader(io.StringIO(text)):
            total += 1
            record = {k: (None if v == "" else v) for k, v in line.items() if k is not None}
            try:
                self.store.create(entity.name, record, user)
            except FieldError:
                continue
            inserted += 1
        link = None if inserted == total else f"/Attachment/import-errors/{entity.id}.csv"
        return {"totalRecords": total, "insertedRecords": inserted, "errorFileLink": link}
