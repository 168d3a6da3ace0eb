"""The emulated app's entities (companies, contacts), their field types and per-type operators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ENTITIES", "OPERATORS", "SYSTEM", "EntityDef", "FieldDef", "ops_for"]


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str
    multi: bool = False
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()   # (name, label)
    fields: tuple[FieldDef, ...] = ()           # nested_fields: inner fields
    target: str | None = None                   # relationship: the related entity
    calculated: bool = False                    # set by the app, never by a write
    # Unique fields match records on import [SD-API]; the emulator does not refuse duplicates
    # on writes, as its seeded data holds some on purpose.
    unique: bool = False
    item_label: Callable[[dict[str, Any]], str] | None = None  # nested item label expression

    def inner(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class EntityDef:
    name: str
    id: str        # the entity's own id, as in delete answers' `entity: {id, name}`
    title: str     # the entity's label, e.g. "Companies"
    fields: tuple[FieldDef, ...]
    label: Callable[[dict[str, Any]], str] = field(default=lambda r: "")

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


_ALL = ("equals", "notEquals", "empty", "notEmpty")
_CMP = ("greater", "greaterOrEquals", "less", "lessOrEquals", "between")
OPERATORS = frozenset((*_ALL, *_CMP, "like", "near"))

# Which operator functions each type accepts [SD-TYPES data/types/*.yml].
_TEXT = frozenset((*_ALL, *_CMP, "like"))
_NUMBER = frozenset((*_ALL, *_CMP))
_BY_TYPE: dict[str, frozenset[str]] = {
    "text": _TEXT, "long_text": _TEXT, "email": _TEXT, "url": _TEXT, "phone": _TEXT,
    "integer": _NUMBER, "decimal": _NUMBER, "date": _NUMBER, "date_time": _NUMBER,
    # Set by the app on create and every save, read as epoch ms, never written [SD-DRM].
    "date_record_modified": _NUMBER,
    "boolean": frozenset({"equals", "notEquals"}),
    "choice": frozenset(_ALL), "color": frozenset(_ALL),
    "relationship": frozenset((*_ALL, "like")), "file": frozenset((*_ALL, "like")),
    "nested_fields": frozenset({"equals", "empty", "notEmpty"}),
    # System fields: ids compare as strings of equal length; version is a number.
    "id": frozenset((*_ALL, *_CMP)), "label": _TEXT, "version": _NUMBER,
}


def ops_for(ftype: str) -> frozenset[str]:
    return _BY_TYPE[ftype]


SYSTEM = {"id": "id", "label": "label", "version": "version"}


def _name(r: dict[str, Any]) -> str:
    return str(r.get("name") or "")


def _person(r: dict[str, Any]) -> str:
    return " ".join(str(r[k]) for k in ("firstName", "lastName") if r.get(k))


def _address(item: dict[str, Any]) -> str:
    return f"{item.get('state') or ''} - {item.get('zipCode') or ''}"


COMPANIES = EntityDef(
    name="companies", id="57fce228e4b0f6600fdfb836", title="Companies", label=_name, fields=(
        FieldDef("name", "text", "Name", required=True, unique=True),
        FieldDef("state", "choice", "State", choices=(
            ("active", "Active"), ("inactive", "Inactive"), ("pending", "Pending"))),
        FieldDef("type", "choice", "Type", choices=(("a", "A"), ("b", "B"), ("c", "C"))),
        # The seed's history sample shows a company carrying a color ("#e1e1e1").
        FieldDef("color", "color", "Color"),
        FieldDef("numberOfEmployees", "integer", "Number of employees"),
        FieldDef("isCustomer", "boolean", "Is customer"),
        FieldDef("contactInformation", "nested_fields", "Contact Information", fields=(
            FieldDef("phoneNumber", "phone", "Phone number"),
            FieldDef("email", "email", "Email"),
        )),
        FieldDef("addresses", "nested_fields", "Addresses", multi=True, item_label=_address,
                 fields=(
                     FieldDef("addressLine", "text", "Address line"),
                     FieldDef("zipCode", "text", "Zip code"),
                     FieldDef("city", "text", "City"),
                     FieldDef("state", "text", "State"),
                 )),
        FieldDef("homepage", "url", "Homepage"),
        FieldDef("taxId", "text", "Tax ID"),
        # The seed's samples carry rating as a string ("2.8"), unlike the decimal type page.
        FieldDef("rating", "decimal", "Rating"),
        FieldDef("notes", "long_text", "Notes"),
        FieldDef("lastMeeting", "date_time", "Last meeting"),
        FieldDef("lastUpdate", "date_record_modified", "Last update", calculated=True),
        FieldDef("tags", "text", "Tags", multi=True),
        FieldDef("logo", "file", "Logo"),
    ))

CONTACTS = EntityDef(
    name="contacts", id="57fce228e4b0f6600fdfb840", title="Contacts", label=_person, fields=(
        FieldDef("firstName", "text", "First name"),
        FieldDef("lastName", "text", "Last name", required=True),
        FieldDef("email", "email", "Email"),
        FieldDef("company", "relationship", "Company", target="companies"),
        FieldDef("birthDate", "date", "Birth date"),
        FieldDef("numberOfSkills", "integer", "Number of skills"),
        FieldDef("phoneNumbers", "phone", "Phone numbers", multi=True),
        FieldDef("customer", "boolean", "Customer"),
        FieldDef("lastContact", "date_time", "Last contact"),
        FieldDef("photo", "file", "Photo"),
    ))

ENTITIES: dict[str, EntityDef] = {e.name: e for e in (COMPANIES, CONTACTS)}
