"""Data Service entity schemas (``GET /Entity``) and config entities → the gateway's EntityInfo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast, get_args

from connectors.dataservice.query import Kind
from gateway.config.base import EntityConfig
from gateway.connector import EntityInfo, FieldInfo, FieldType

__all__ = ["entity_from_config", "entity_from_metadata", "field_info"]

# sqlType.name → gateway type (UP-TS SqlFieldType, UP-PY ENTITY_SCHEMA_FIELD_TYPE_MAP)
_SQL: dict[str, FieldType] = {
    "NVARCHAR": "string", "VARCHAR": "string", "MULTILINE": "string",
    "INT": "integer", "BIGINT": "integer", "SMALLINT": "integer",
    "DECIMAL": "number", "FLOAT": "number", "REAL": "number", "DOUBLE": "number",
    "DATE": "date", "DATETIME2": "datetime", "DATETIMEOFFSET": "datetime", "DATETIME": "datetime",
    "BIT": "boolean", "UNIQUEIDENTIFIER": "string",
}
# Types a config may name for a field, beyond the gateway's own.
_CONFIG_KINDS: dict[str, tuple[FieldType, Kind | None]] = {
    "uuid": ("string", "uuid"),
    "choice": ("integer", "choice"),
}


def _sql_name(definition: Mapping[str, Any]) -> str:
    sql = definition.get("sqlType") or definition.get("fieldDataType")
    name = sql.get("name") if isinstance(sql, Mapping) else sql
    return str(name or "NVARCHAR").upper()


def _target(definition: Mapping[str, Any]) -> str:
    """The entity a relationship field points at (``referenceEntity.name``, else
    ``referenceName``); ``*`` when the schema does not say, which no scope narrower than the
    whole source allows."""
    ref = definition.get("referenceEntity")
    name = ref.get("name") if isinstance(ref, Mapping) else None
    name = name or definition.get("referenceName")
    return name if isinstance(name, str) and name else "*"


def field_info(definition: Mapping[str, Any]) -> FieldInfo:
    """One field of the schema answer, its service kind in ``kind``; the key field ``Id``
    becomes ``id``."""
    info, kind = _field(definition)
    return replace(info, kind=kind)


def _field(definition: Mapping[str, Any]) -> tuple[FieldInfo, Kind | None]:
    name = str(definition.get("name"))
    sql = _sql_name(definition)
    display = str(definition.get("fieldDisplayType") or "Basic")
    if name == "Id" or definition.get("isPrimaryKey") is True:
        return FieldInfo("id"), "uuid"
    if display == "Relationship":
        # Read back as the related record (expanded): only null checks mean the same here.
        return FieldInfo(name, "json", sortable=False, related=_target(definition)), "opaque"
    if display == "File":
        return FieldInfo(name, "file", sortable=False), "opaque"
    if display == "ChoiceSetMultiple":
        return FieldInfo(name, "integer", sortable=False, multivalued=True), "opaque"
    if display == "ChoiceSetSingle":
        return FieldInfo(name, "integer"), "choice"
    if sql == "MULTILINE":
        # Lists and queries answer a size marker ("HasValue=true Length=12") for MULTILINE_MAX
        # text, never the text [UP-TS entities.types.ts]: the gateway could only compare the
        # marker, so such a field is neither filtered nor sorted on.
        return FieldInfo(name, "string", filterable=False, sortable=False), "opaque"
    ftype = _SQL.get(sql, "string")
    return FieldInfo(name, ftype), "uuid" if sql == "UNIQUEIDENTIFIER" else None


def entity_from_metadata(meta: Mapping[str, Any]) -> EntityInfo:
    """From one entity of ``GET /Entity`` or ``GET /Entity/<id>`` (with ``fields``)."""
    name = str(meta.get("name"))
    fields: dict[str, FieldInfo] = {}
    raw = meta.get("fields")
    for definition in raw if isinstance(raw, list) else []:
        if isinstance(definition, Mapping) and isinstance(definition.get("name"), str):
            info = field_info(definition)
            fields[info.name] = info
    fields.setdefault("id", FieldInfo("id", kind="uuid"))
    label = meta.get("displayName")
    return EntityInfo(name=name, fields=fields, label=str(label) if label else name)


def entity_from_config(
    entity: str, config: EntityConfig, base: EntityInfo | None = None
) -> EntityInfo:
    """Config fields override (or, without metadata, make up) the entity's fields."""
    fields = dict(base.fields) if base else {}
    for name, fc in config.fields.items():
        gw = "id" if name == "Id" else name
        ftype, kind = _CONFIG_KINDS.get(fc.type, (fc.type, None))
        ftype = ftype if ftype in get_args(FieldType) else "string"
        known = fields.get(gw)  # a relationship stays one: the config types, it cannot retarget
        fields[gw] = FieldInfo(gw, cast(FieldType, ftype),
                               filterable=fc.filterable, sortable=fc.sortable,
                               related=known.related if known else None, kind=kind)
    fields.setdefault("id", FieldInfo("id", kind="uuid"))
    label = base.label if base else entity
    return EntityInfo(name=entity, fields=fields, label=label)
