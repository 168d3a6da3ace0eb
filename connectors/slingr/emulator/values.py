"""Field values on write: each type's accepted REST forms, coerced to the stored form, or errors."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.slingr.emulator.errors import FieldError
from connectors.slingr.emulator.schema import ENTITIES, EntityDef, FieldDef
from connectors.slingr.emulator.store import FileData, RecordStore

__all__ = ["OBJECT_ID", "Invalid", "coerce_changes"]

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TEXT = {"text", "long_text", "email", "url", "phone"}
# Field-level error messages; the choice one is documented, the others follow it (inferred).
_MESSAGES = {
    "text": "Not a valid text", "long_text": "Not a valid text", "email": "Not a valid email",
    "url": "Not a valid URL", "phone": "Not a valid phone", "integer": "Not a valid integer",
    "decimal": "Not a valid decimal", "boolean": "Not a valid boolean",
    "date": "Not a valid date", "date_time": "Not a valid date time",
    "choice": "Not a valid choice", "color": "Not a valid color",
    "relationship": "Record not found",
    "file": "Not a valid file", "nested_fields": "Not a valid value",
}


class Invalid(Exception):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


def _scalar(fdef: FieldDef, value: Any, store: RecordStore) -> Any:
    t = fdef.type
    if t in _TEXT:
        if not isinstance(value, str):
            raise Invalid
        if t == "email" and value and not _EMAIL.fullmatch(value):
            raise Invalid
        return value
    if t == "integer":
        if isinstance(value, bool):
            raise Invalid
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise Invalid
    if t == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise Invalid
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise Invalid from exc
        if not number.is_finite():
            raise Invalid
        return str(number)  # kept as the seed's samples show it: "2.8"
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise Invalid
    if t == "date":
        if not isinstance(value, str) or len(value) != 10:
            raise Invalid
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise Invalid from exc
    if t in ("date_time", "date_record_modified"):
        if isinstance(value, bool):
            raise Invalid
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise Invalid
    if t == "choice":
        if isinstance(value, str) and any(value == name for name, _ in fdef.choices):
            return value
        raise Invalid
    if t == "color":  # a CSS hex color, as the seed's "#e1e1e1" (inferred form)
        if isinstance(value, str) and re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value):
            return value
        raise Invalid
    if t == "relationship":
        return _relationship(fdef, value, store)
    if t == "file":
        return _file(value, store)
    raise Invalid


def _relationship(fdef: FieldDef, value: Any, store: RecordStore) -> dict[str, Any]:
    """{"id"} / id string / {"label"} / label string; id wins over label [SD-TYPES]."""
    assert fdef.target is not None
    rid: Any = None
    label: Any = None
    if isinstance(value, dict):
        rid, label = value.get("id"), value.get("label")
    elif isinstance(value, str):
        rid, label = (value, None) if OBJECT_ID.fullmatch(value) else (None, value)
    else:
        raise Invalid
    if rid is not None:
        target = store.get(fdef.target, rid) if isinstance(rid, str) else None
        if target is None:
            raise Invalid
        return {"id": target["id"], "label": target["label"]}
    if not isinstance(label, str):
        raise Invalid
    found = [r for r in store.all(fdef.target) if r["label"] == label]
    if len(found) > 1:
        raise Invalid("Label is not unique")
    if not found:
        raise Invalid
    return {"id": found[0]["id"], "label": found[0]["label"]}


def _file(value: Any, store: RecordStore) -> dict[str, Any]:
    """{"id"} / id string of an upload, or inline {"name", "contentType", "content"} [SD-TYPES]."""
    if isinstance(value, dict) and "content" in value:
        name, ctype = value.get("name"), value.get("contentType")
        if not isinstance(name, str) or not name:
            raise Invalid("Name is required when uploading a file and must be a string")
        if not isinstance(ctype, str) or not ctype:
            raise Invalid("Content type is required when uploading a file and must be a string")
        try:
            data = base64.b64decode(str(value["content"]), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("Content must be base64") from exc
        fid = store.new_id()
        store.files[fid] = FileData(fid, name, ctype, data, store.clock())
        return {"id": fid, "name": name}
    ref: Any = value.get("id") if isinstance(value, dict) else value
    if not isinstance(ref, str) or ref not in store.files:
        raise Invalid("File not found")
    return {"id": ref, "name": store.files[ref].name}


def _value(fdef: FieldDef, value: Any, old: Any, path: str, store: RecordStore,
           errors: list[dict[str, Any]]) -> Any:
    """Coerce one field's submitted value; appends errors and returns None when invalid."""
    if value is None:
        if fdef.required:
            errors.append(FieldError(path, fdef.label, "required", "This field is required"))
        return None
    if fdef.type == "nested_fields":
        return _nested(fdef, value, old, path, store, errors)
    try:
        if fdef.multi:
            items = value if isinstance(value, list) else [value]
            return [_scalar(fdef, v, store) for v in items if v is not None]
        return _scalar(fdef, value, store)
    except Invalid as exc:
        errors.append(FieldError(path, fdef.label, "invalid", exc.message or _MESSAGES[fdef.type],
                                 value))
        return None


def _group(fdef: FieldDef, value: Any, old: dict[str, Any] | None, path: str,
           store: RecordStore, errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors.append(FieldError(path, fdef.label, "invalid", _MESSAGES["nested_fields"], value))
        return None
    out: dict[str, Any] = dict(old or {})  # partial: inner fields not sent stay
    for key, inner_value in value.items():
        if key in ("id", "label"):
            continue
        inner = fdef.inner(key)
        if inner is None:
            errors.append(FieldError(f"{path}.{key}", None, "invalid",
                                     "Field does not exist in entity", inner_value))
            continue
        out[key] = _value(inner, inner_value, out.get(key), f"{path}.{key}", store, errors)
    return out


def _nested(fdef: FieldDef, value: Any, old: Any, path: str, store: RecordStore,
            errors: list[dict[str, Any]]) -> Any:
    if not fdef.multi:
        return _group(fdef, value, old if isinstance(old, dict) else None, path, store, errors)
    if not isinstance(value, list):
        errors.append(FieldError(path, fdef.label, "invalid", _MESSAGES["nested_fields"], value))
        return None
    # Items are matched to the stored ones by `id`; the list sent replaces the list [SD-API].
    by_id = {item["id"]: item for item in (old or [])}
    out = []
    for i, item in enumerate(value):
        prior = by_id.get(item.get("id")) if isinstance(item, dict) else None
        group = _group(fdef, item, prior, f"{path}[{i}]", store, errors)
        if group is not None:
            out.append(group)
    return out


def coerce_changes(entity: EntityDef, body: Any, old: dict[str, Any] | None,
                   store: RecordStore) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record after applying `body` (create when `old` is None), and the field errors."""
    record: dict[str, Any] = dict(old or {})
    errors: list[dict[str, Any]] = []
    for key, value in body.items():
        if key in ("id", "version", "label", "entity"):
            continue  # system fields: the URL id wins, version is the lock, label is computed
        fdef = entity.field(key)
        if fdef is None:
            errors.append(FieldError(key, None, "invalid", "Field does not exist in entity",
                                     value))
            continue
        if fdef.calculated:
            continue
        record[key] = _value(fdef, value, record.get(key), key, store, errors)
    if old is None:
        for fdef in entity.fields:
            if fdef.required and record.get(fdef.name) in (None, "") and fdef.name not in body:
                errors.append(FieldError(fdef.name, fdef.label, "required",
                                         "This field is required"))
    order = {f.name: i for i, f in enumerate(entity.fields)}
    errors.sort(key=lambda e: order.get(re.split(r"[.\[]", e["field"])[0], len(order)))
    return record, errors


def entity_def(name: str) -> EntityDef | None:
    return ENTITIES.get(name)
