"""The emulated tenant's entities and choice sets, and their metadata as GET /Entity answers it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["CHOICE_SETS", "ENTITIES", "SYSTEM_FIELDS", "ChoiceSet", "EntityDef", "FieldDef",
           "choice_set_metadata", "entity_metadata", "find_entity", "guid"]

_NS = uuid.UUID("5d0c5c38-8a34-4b57-9f0e-6b1a3f0d2a11")


def guid(*parts: str) -> str:
    """A stable GUID for a schema object, so entity ids are the same in every run."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str                       # STRING, INTEGER, DECIMAL, BOOLEAN, DATE, DATETIME, FILE, …
    required: bool = False
    length: int | None = None       # STRING/MULTILINE length limit
    precision: int | None = None    # DECIMAL places
    choice_set: str | None = None   # CHOICE_SET_SINGLE/MULTIPLE: the choice set's name
    target: str | None = None       # RELATIONSHIP: the related entity's name
    system: bool = False
    display: str = ""


@dataclass(frozen=True)
class EntityDef:
    name: str
    display: str
    fields: dict[str, FieldDef]
    description: str = ""

    @property
    def id(self) -> str:
        return guid("entity", self.name)


@dataclass(frozen=True)
class ChoiceSet:
    name: str
    display: str
    values: tuple[tuple[str, str, int], ...]   # (Name, DisplayName, NumberId)

    @property
    def id(self) -> str:
        return guid("choiceset", self.name)

    @property
    def numbers(self) -> set[int]:
        return {number for _, _, number in self.values}


# Reserved names (UP-PY RESERVED_FIELD_NAMES): set by the server, ignored when sent.
SYSTEM_FIELDS = ("Id", "CreatedBy", "CreateTime", "UpdatedBy", "UpdateTime")


def _system() -> list[FieldDef]:
    return [FieldDef("Id", "UUID", system=True), FieldDef("CreatedBy", "UUID", system=True),
            FieldDef("CreateTime", "DATETIME", system=True),
            FieldDef("UpdatedBy", "UUID", system=True),
            FieldDef("UpdateTime", "DATETIME", system=True)]


def _entity(name: str, display: str, fields: list[FieldDef], description: str = "") -> EntityDef:
    every = _system() + fields
    return EntityDef(name, display, {f.name: f for f in every}, description)


CHOICE_SETS: dict[str, ChoiceSet] = {cs.name: cs for cs in (
    ChoiceSet("Sports", "Sports", (("Athletics", "Athletics", 0), ("Swimming", "Swimming", 1),
                                   ("Cycling", "Cycling", 2), ("Gymnastics", "Gymnastics", 3),
                                   ("Rowing", "Rowing", 4), ("Skiing", "Skiing", 5))),
    ChoiceSet("MedalTypes", "Medal types", (("Gold", "Gold", 0), ("Silver", "Silver", 1),
                                            ("Bronze", "Bronze", 2))),
)}

# Olympics has the seed's fields, its "OlymipcsVersion" typo included; Athletes adds the numeric,
# boolean, choice-set, relationship and long-text fields whose semantics need exercising.
ENTITIES: dict[str, EntityDef] = {e.name: e for e in (
    _entity("Olympics", "Olympics", [
        FieldDef("Name", "STRING", required=True, length=200),
        FieldDef("Nations", "INTEGER"),
        FieldDef("OlymipcsVersion", "INTEGER"),
        FieldDef("OpeningDate", "DATE"),
        FieldDef("ClosingDate", "DATE"),
        FieldDef("Logo", "FILE"),
    ], "Olympic games"),
    _entity("Athletes", "Athletes", [
        FieldDef("Name", "STRING", required=True, length=200),
        FieldDef("Country", "STRING", length=100),
        FieldDef("Age", "INTEGER"),
        FieldDef("Height", "DECIMAL", precision=2),
        FieldDef("Active", "BOOLEAN"),
        FieldDef("Sport", "CHOICE_SET_SINGLE", choice_set="Sports"),
        FieldDef("Medals", "CHOICE_SET_MULTIPLE", choice_set="MedalTypes"),
        FieldDef("Games", "RELATIONSHIP", target="Olympics"),
        FieldDef("Born", "DATE"),
        FieldDef("LastSeen", "DATETIME"),
        FieldDef("Bio", "MULTILINE_MAX", length=131072),
    ], "Athletes who took part in the games"),
)}


def find_entity(key: str) -> EntityDef | None:
    """Surface B keys: the entity's id (GUID, any case) or, as the SDK examples pass, its name."""
    if key in ENTITIES:
        return ENTITIES[key]
    lowered = key.lower()
    return next((e for e in ENTITIES.values() if e.id == lowered), None)


# (sqlType.name, fieldDisplayType) per field type [UP-PY ENTITY_SCHEMA_FIELD_TYPE_MAP].
_SQL = {"UUID": ("UNIQUEIDENTIFIER", "Basic"), "STRING": ("NVARCHAR", "Basic"),
        "INTEGER": ("INT", "Basic"), "DATETIME": ("DATETIME2", "Basic"),
        "DECIMAL": ("DECIMAL", "Basic"), "DATE": ("DATE", "Basic"), "BOOLEAN": ("BIT", "Basic"),
        "MULTILINE_MAX": ("MULTILINE", "Basic"), "FILE": ("UNIQUEIDENTIFIER", "File"),
        "CHOICE_SET_SINGLE": ("INT", "ChoiceSetSingle"),
        "CHOICE_SET_MULTIPLE": ("NVARCHAR", "ChoiceSetMultiple"),
        "RELATIONSHIP": ("UNIQUEIDENTIFIER", "Relationship")}


def _brief(entity: EntityDef) -> dict[str, Any]:
    return {"id": entity.id, "name": entity.name, "displayName": entity.display,
            "entityType": "Entity", "isRbacEnabled": False}


def _field(entity: EntityDef, fdef: FieldDef) -> dict[str, Any]:
    sql_name, display_type = _SQL[fdef.type]
    sql: dict[str, Any] = {"name": sql_name}
    if fdef.length is not None:
        sql["LengthLimit"] = fdef.length
    if fdef.type == "DECIMAL":
        sql.update(DecimalPrecision=fdef.precision, MaxValue=1_000_000_000_000,
                   MinValue=-1_000_000_000_000)
    if fdef.type == "INTEGER":
        sql.update(MaxValue=2_147_483_647, MinValue=-2_147_483_648)
    out: dict[str, Any] = {
        "id": guid("field", entity.name, fdef.name), "name": fdef.name,
        "displayName": fdef.display or fdef.name, "description": None,
        "isPrimaryKey": fdef.name == "Id", "isForeignKey": fdef.type == "RELATIONSHIP",
        "isExternalField": False, "isHiddenField": False, "isUnique": fdef.name == "Id",
        "isRequired": fdef.required or fdef.name == "Id", "isSystemField": fdef.system,
        "isAttachment": fdef.type == "FILE", "isRbacEnabled": False,
        "fieldDisplayType": display_type, "sqlType": sql, "defaultValue": None,
        "referenceName": None, "referenceEntity": None, "referenceChoiceset": None,
        "referenceField": None, "referenceType": None, "choiceSetId": None,
    }
    if fdef.target is not None:
        target = ENTITIES[fdef.target]
        out.update(referenceName=target.name, referenceEntity=_brief(target),
                   referenceType="ManyToOne",
                   referenceField={"id": guid("field", target.name, "Id")})
    if fdef.choice_set is not None:
        cs = CHOICE_SETS[fdef.choice_set]
        out.update(choiceSetId=cs.id, referenceChoiceset={
            "id": cs.id, "name": cs.name, "displayName": cs.display, "entityType": "ChoiceSet",
            "isRbacEnabled": False})
    return out


def entity_metadata(entity: EntityDef, record_count: int, attachment_bytes: int) -> dict[str, Any]:
    """One entity as GET /Entity/<id> answers it (the SDK's Entity model, camelCase)."""
    return {**_brief(entity), "description": entity.description,
            "fields": [_field(entity, f) for f in entity.fields.values()],
            "externalFields": [], "sourceJoinCriteria": [], "recordCount": record_count,
            "storageSizeInMB": 0.5, "usedStorageSizeInMB": round(record_count / 4096, 4),
            "attachmentSizeInBytes": attachment_bytes}


def choice_set_metadata(cs: ChoiceSet) -> dict[str, Any]:
    return {"id": cs.id, "name": cs.name, "displayName": cs.display, "entityType": "ChoiceSet",
            "isRbacEnabled": False, "description": None, "fields": None,
            "recordCount": len(cs.values)}

