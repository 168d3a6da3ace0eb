"""Sugar field definitions (``/metadata``) and config entities → the gateway's EntityInfo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast, get_args

from gateway.config.base import EntityConfig
from gateway.connector import EntityInfo, FieldInfo, FieldType

__all__ = ["entity_from_config", "entity_from_metadata", "field_info"]

_TYPES: dict[str, FieldType] = {
    "int": "integer",
    "integer": "integer",
    "long": "integer",
    "decimal": "number",
    "currency": "number",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "date": "date",
    "datetime": "datetime",
    "datetimecombo": "datetime",
    "file": "file",
    "image": "file",
}
# Lists or links to other records: Sugar cannot filter or sort on them as plain columns.
_MULTIVALUED = frozenset({"email", "multienum", "teamset", "collection", "link"})
_NOT_COLUMNS = _MULTIVALUED | {"relate"}


def field_info(name: str, definition: Mapping[str, Any]) -> FieldInfo:
    sugar_type = str(definition.get("type") or "varchar")
    ftype = _TYPES.get(sugar_type, "string")
    column = sugar_type not in _NOT_COLUMNS and definition.get("source") != "non-db"
    usable = column and ftype != "file"
    related = definition.get("module") if sugar_type in ("relate", "link") else None
    return FieldInfo(
        name=name,
        type=ftype,
        filterable=usable,
        sortable=usable,
        multivalued=sugar_type in _MULTIVALUED,
        # A relate field holds a copy of the related record's field (account_name), its id is
        # in another field (account_id); a link field, when asked for, the related records.
        related=str(related or "*") if sugar_type in ("relate", "link") else None,
        related_copy=sugar_type == "relate",
    )


def entity_from_metadata(module: str, meta: Mapping[str, Any]) -> EntityInfo:
    """From ``{"fields": {name: definition}}`` of one module in Sugar's metadata answer."""
    raw = meta.get("fields")
    fields: dict[str, FieldInfo] = {}
    if isinstance(raw, Mapping):
        for name, definition in raw.items():
            if isinstance(definition, Mapping) and isinstance(name, str):
                fields[name] = field_info(name, definition)
    fields.setdefault("id", FieldInfo("id"))
    return EntityInfo(name=module, fields=fields, label=module)


def entity_from_config(
    module: str, config: EntityConfig, base: EntityInfo | None = None
) -> EntityInfo:
    """Config fields override (or, without metadata, make up) the module's fields."""
    fields = dict(base.fields) if base else {}
    for name, fc in config.fields.items():
        ftype = fc.type if fc.type in get_args(FieldType) else "string"
        known = fields.get(name)  # a relate field stays one: the config only types it
        fields[name] = FieldInfo(
            name, cast(FieldType, ftype), filterable=fc.filterable, sortable=fc.sortable,
            related=known.related if known else None,
            related_copy=known.related_copy if known else False,
        )
    fields.setdefault("id", FieldInfo("id"))
    return EntityInfo(name=module, fields=fields, label=base.label if base else module)
