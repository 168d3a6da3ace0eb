"""Sugar vardefs of the emulated modules: field types, required fields, links, metadata answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = [
    "FILE_TYPES",
    "MODULES",
    "NUMERIC_TYPES",
    "STRING_TYPES",
    "FieldDef",
    "Link",
    "ModuleDef",
    "metadata",
]

STRING_TYPES = frozenset({"id", "name", "varchar", "text", "enum", "relate", "email", "phone",
                          "url", "file", "image", "fullname"})
NUMERIC_TYPES = frozenset({"int", "decimal", "currency"})
FILE_TYPES = frozenset({"file", "image"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    required: bool = False
    len: int | None = None
    options: str | None = None          # dropdown list name, as in real vardefs
    source: str | None = None           # "non-db" for relate fields resolved through a link
    link: str | None = None
    rname: str | None = None
    id_name: str | None = None
    module: str | None = None
    readonly: bool = False              # set by the server, ignored when a client sends it
    custom: bool = False                # Studio field (name ends in _c)

    def metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type,
                               "vname": f"LBL_{self.name.upper()}"}
        for key in ("len", "options", "source", "link", "rname", "id_name", "module"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.required:
            out["required"] = True
        if self.custom:
            out["source"] = "custom_fields"
        return out


@dataclass(frozen=True)
class Link:
    """A link usable as `link.field` in filters: the related module and the local id field."""

    module: str
    id_field: str


@dataclass(frozen=True)
class ModuleDef:
    name: str
    fields: dict[str, FieldDef]
    links: dict[str, Link]
    search_fields: tuple[str, ...]      # what `q=` searches (LIKE 'q%')
    optimistic_locking: bool = True


def _fields(*defs: FieldDef) -> dict[str, FieldDef]:
    return {d.name: d for d in defs}


_COMMON = (
    FieldDef("id", "id", readonly=True),
    FieldDef("date_entered", "datetime", readonly=True),
    FieldDef("date_modified", "datetime", readonly=True),
    FieldDef("modified_user_id", "id", readonly=True),
    FieldDef("created_by", "id", readonly=True),
    FieldDef("description", "text"),
    FieldDef("deleted", "bool", readonly=True),
    FieldDef("assigned_user_id", "id"),
)

ACCOUNTS = ModuleDef(
    name="Accounts",
    fields=_fields(
        *_COMMON,
        FieldDef("name", "name", required=True, len=150),
        FieldDef("account_type", "enum", len=50, options="account_type_dom"),
        FieldDef("industry", "enum", len=50, options="industry_dom"),
        # Real Sugar keeps both as free text, so "1,000+" and "" are legal values.
        FieldDef("annual_revenue", "varchar", len=100),
        FieldDef("employees", "varchar", len=10),
        FieldDef("rating", "varchar", len=100),
        FieldDef("phone_office", "phone", len=100),
        FieldDef("website", "url", len=255),
        FieldDef("email1", "email"),
        FieldDef("billing_address_city", "varchar", len=100),
        FieldDef("billing_address_country", "varchar", len=255),
        # Studio-style custom fields, so numeric comparisons have something to bite on.
        FieldDef("headcount_c", "int", custom=True),
        FieldDef("revenue_c", "currency", custom=True),
    ),
    links={},
    search_fields=("name",),
)

CONTACTS = ModuleDef(
    name="Contacts",
    fields=_fields(
        *_COMMON,
        FieldDef("first_name", "varchar", len=100),
        FieldDef("last_name", "varchar", required=True, len=100),
        FieldDef("title", "varchar", len=100),
        FieldDef("account_id", "id"),
        FieldDef("account_name", "relate", source="non-db", link="accounts", rname="name",
                 id_name="account_id", module="Accounts"),
        FieldDef("email1", "email"),
        FieldDef("phone_work", "phone", len=100),
        FieldDef("birthdate", "date"),
        FieldDef("do_not_call", "bool"),
        FieldDef("lead_source", "enum", len=255, options="lead_source_dom"),
        FieldDef("picture", "image", len=255),
        FieldDef("score_c", "decimal", custom=True),
    ),
    links={"accounts": Link("Accounts", "account_id")},
    search_fields=("first_name", "last_name"),
)

MODULES: dict[str, ModuleDef] = {m.name: m for m in (ACCOUNTS, CONTACTS)}


def metadata(modules: list[str] | None) -> dict[str, Any]:
    """The `modules` section of GET /metadata, for the named modules or all of them."""
    names = [m for m in (modules or list(MODULES)) if m in MODULES]
    out = {name: {"fields": {f: d.metadata() for f, d in MODULES[name].fields.items()},
                  "_hash": _hash(MODULES[name].fields)} for name in names}
    return {"modules": out, "_hash": _hash(out)}


def _hash(obj: Any) -> str:
    return hashlib.md5(orjson.dumps(obj, default=repr, option=orjson.OPT_SORT_KEYS)).hexdigest()
