"""Sugar's FileApi on file and image fields: list, download, multipart and raw upload, delete."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import struct
import uuid
from collections.abc import Mapping
from typing import Any

from connectors.sugarcrm.emulator.errors import SugarError
from connectors.sugarcrm.emulator.records import Records, not_found, php_empty
from connectors.sugarcrm.emulator.schema import FILE_TYPES, MODULES
from connectors.sugarcrm.emulator.store import FileData
from connectors.sugarcrm.emulator.values import php_str

__all__ = ["Download", "Files"]

Row = dict[str, Any]


class Download:
    """A file answer: raw bytes and the headers Sugar sends with them."""

    def __init__(self, data: bytes, headers: dict[str, str]) -> None:
        self.data = data
        self.headers = headers


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


class Files:
    def __init__(self, records: Records) -> None:
        self.records = records
        self.store = records.store

    def _row(self, module: str, record_id: str) -> Row:
        row = self.store.live(module, record_id)
        if row is None:
            raise not_found(record_id, module)
        return row

    def _missing(self, module: str, fname: str) -> SugarError:
        return SugarError(404, "not_found",
                          f"The requested file {module} :: {fname} could not be found.")

    def _field(self, module: str, fname: str) -> str:
        fdef = MODULES[module].fields.get(fname)
        if fdef is None or fdef.type not in FILE_TYPES:
            raise self._missing(module, fname)
        return fdef.type

    def _info(self, module: str, record_id: str, fname: str, base: str) -> Row | None:
        blob = self.store.files.get((module, record_id, fname))
        if blob is None:
            return None
        info: Row = {"content-type": blob.content_type, "content-length": len(blob.data),
                     "name": blob.name, "uri": f"{base}/rest/v10/{module}/{record_id}/file/{fname}"}
        size = _png_size(blob.data)
        if size is not None:
            info["width"], info["height"] = size
        return info

    def listing(self, module: str, record_id: str, base: str) -> Row:
        self._row(module, record_id)
        out: Row = {}
        for fname, fdef in MODULES[module].fields.items():
            if fdef.type in FILE_TYPES:
                info = self._info(module, record_id, fname, base)
                if info is not None:
                    out[fname] = info
        return out

    def download(self, module: str, record_id: str, fname: str, args: Row) -> Download:
        self._row(module, record_id)
        ftype = self._field(module, fname)
        blob = self.store.files.get((module, record_id, fname))
        if blob is None:
            raise self._missing(module, fname)
        # Images are shown inline unless a download is forced; other files are attachments.
        inline = ftype == "image" and php_empty(args.get("force_download"))
        disposition = f'{"inline" if inline else "attachment"}; filename="{blob.name}"'
        return Download(blob.data, {"Content-Type": blob.content_type,
                                    "Content-Disposition": disposition})

    def _save(self, module: str, record_id: str, fname: str, blob: FileData, base: str,
              user_id: str) -> Row:
        row = self._row(module, record_id)
        ftype = self._field(module, fname)
        self.store.files[(module, record_id, fname)] = blob
        value = str(uuid.uuid4()) if ftype == "image" else blob.name
        self.store.update(module, record_id, {fname: value, "modified_user_id": user_id})
        return {fname: self._info(module, record_id, fname, base),
                "record": self.records.format(module, row, None, user_id)}

    def upload(self, module: str, record_id: str, fname: str, parts: Mapping[str, FileData],
               base: str, user_id: str) -> Row:
        self._row(module, record_id)
        self._field(module, fname)
        blob = parts.get(fname)
        if blob is None:  # sic: Sugar's spelling
            raise SugarError(422, "missing_parameter",
                             f"Incorrect field name for attachement: {fname}")
        return self._save(module, record_id, fname, blob, base, user_id)

    def put_raw(self, module: str, record_id: str, fname: str, raw: bytes, args: Row,
                headers: Mapping[str, str], base: str, user_id: str) -> Row:
        self._row(module, record_id)
        self._field(module, fname)
        name = php_str(args.get("filename")) or fname
        encoding = php_str(args.get("content_transfer_encoding")
                           or headers.get("X-Content-Transfer-Encoding", ""))
        if encoding.lower() == "base64":
            try:
                raw = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise SugarError(422, "invalid_parameter", "Invalid base64 file content") from exc
        content_type = mimetypes.guess_type(name)[0] or headers.get(
            "Content-Type", "application/octet-stream")
        return self._save(module, record_id, fname, FileData(name, content_type, raw), base,
                          user_id)

    def remove(self, module: str, record_id: str, fname: str, base: str, user_id: str) -> Row:
        row = self._row(module, record_id)
        self._field(module, fname)
        if self.store.files.pop((module, record_id, fname), None) is None:
            raise self._missing(module, fname)
        self.store.update(module, record_id, {fname: None, "modified_user_id": user_id})
        out = self.listing(module, record_id, base)
        out["record"] = self.records.format(module, row, None, user_id)
        return out
