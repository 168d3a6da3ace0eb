"""The YAML of a ``type: view`` source (spec §12) and its checks against the member sources.

The models check the view's own shape (pydantic, each error at its key path); what needs the
other sources' described entities (unknown member source, entity or field, a type that differs
from the view field's) is :func:`problems`, run once the members are described.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from gateway.config.base import StrictModel
from gateway.connector import EntityInfo
from gateway.errors import InvalidRequest
from gateway.i18n import DEFAULT_LOCALE, translate
from gateway.query.parse import parse_body

__all__ = ["FIELD_TYPES", "RESERVED", "Loc", "Member", "ViewCollation", "ViewEntity",
           "ViewSource", "problems"]

Loc = tuple[str | int, ...]
FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "json")
ViewFieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "json"]
# Fields every view record has: its composite id and the member source it comes from.
RESERVED = frozenset({"id", "source"})
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class ViewCollation(StrictModel):
    """How the view compares and orders text (spec §12; default case-insensitive)."""

    case: Literal["insensitive", "sensitive"] = "insensitive"
    padSpace: bool = Field(
        False, description="trailing spaces ignored by ==, <, >, in and sorting (SQL's PAD "
        "SPACE); members whose collation differs in case or padding are finished in the gateway")


class Member(StrictModel):
    """One member entity: ``map`` renames its fields onto the view's (viewField: memberField),
    ``where`` (a filter in the member's own fields and semantics) limits which of its records
    belong to the view."""

    source: str = Field(min_length=1)
    entity: str = Field(min_length=1)
    map: dict[str, str] = Field(default_factory=dict)
    where: list[list[dict[str, Any]]] | None = None

    @field_validator("source")
    @classmethod
    def _source_name(cls, value: str) -> str:
        if not _SOURCE_NAME.match(value):
            raise ValueError(f"{value!r} is not a source name (letters, digits, _ and -)")
        return value

    @field_validator("map")
    @classmethod
    def _map_targets(cls, value: dict[str, str]) -> dict[str, str]:
        for view_field, member_field in value.items():
            if view_field in RESERVED:
                raise ValueError(f"{view_field!r} is given by the view itself; it cannot be mapped")
            if not member_field:
                raise ValueError(f"{view_field!r} maps to an empty member field name")
        return value


class ViewEntity(StrictModel):
    """One view entity: its schema, its collation, its members."""

    fields: dict[str, ViewFieldType] = Field(min_length=1)
    collation: ViewCollation = Field(default_factory=ViewCollation)
    from_: list[Member] = Field(alias="from", min_length=1)
    createIn: str | None = None
    partial: Literal["allow", "deny"] = "deny"

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, str]) -> dict[str, str]:
        taken = sorted(RESERVED & set(value))
        if taken:
            raise ValueError(f"{', '.join(taken)}: given by the view itself, not declared")
        return value

    @model_validator(mode="after")
    def _members_fit(self) -> Self:
        seen: dict[str, int] = {}
        for i, member in enumerate(self.from_):
            if member.source in seen:
                raise ValueError(
                    f"from[{i}].source: {member.source!r} is already from[{seen[member.source]}]"
                    " (a view id names its member by source, so each source appears once)")
            seen[member.source] = i
            unknown = sorted(set(member.map) - set(self.fields))
            if unknown:
                raise ValueError(f"from[{i}].map: {', '.join(unknown)} not among the view's fields")
        if self.createIn is not None and self.createIn not in seen:
            raise ValueError(f"createIn: {self.createIn!r} is not a member source "
                             f"({', '.join(seen)})")
        return self


class ViewSource(StrictModel):
    """``type: view``: entities over other sources (spec §12)."""

    type: Literal["view"]
    entities: dict[str, ViewEntity] = Field(min_length=1)


def problems(
    name: str, view: ViewSource, described: Mapping[str, Mapping[str, EntityInfo] | None]
) -> list[tuple[Loc, str]]:
    """What is wrong with view source ``name`` given the other sources' described entities
    (``described[source]``: its entities by name; None for a source that is configured but
    could not be described, whose members are not checked further). Each problem is the key
    path of the bad mapping and a reason."""
    found: list[tuple[Loc, str]] = []
    for ename, entity in view.entities.items():
        for i, member in enumerate(entity.from_):
            loc: Loc = ("sources", name, "entities", ename, "from", i)
            if member.source == name:
                found.append(((*loc, "source"), "a view cannot be its own member"))
                continue
            if member.source not in described:
                known = ", ".join(sorted(s for s in described if s != name)) or "none"
                found.append(((*loc, "source"),
                              f"no source named {member.source!r} (sources: {known})"))
                continue
            entities = described[member.source]
            if entities is None:
                continue
            info = entities.get(member.entity)
            if info is None:
                known = ", ".join(sorted(entities)) or "none"
                found.append(((*loc, "entity"), f"{member.source} has no entity "
                              f"{member.entity!r} (entities: {known})"))
                continue
            for view_field, member_field in member.map.items():
                field = info.field(member_field)
                at: Loc = (*loc, "map", view_field)
                if field is None:
                    found.append((at, f"{member.source}/{member.entity} has no field "
                                  f"{member_field!r}"))
                elif field.type != entity.fields[view_field]:
                    found.append((at, f"{member.source}/{member.entity}.{member_field} is "
                                  f"{field.type}, the view field {view_field!r} is "
                                  f"{entity.fields[view_field]}"))
            if member.where is not None:
                try:
                    where = parse_body({"filter": member.where}, max_page_size=1,
                                       entity=info).filter
                    for g, group in enumerate(where):
                        for c, cond in enumerate(group.conditions):
                            if cond.field != "id" and info.field(cond.field) is None:
                                found.append(((*loc, f"where[{g}][{c}]", "field"),
                                              f"{member.source}/{member.entity} has no field "
                                              f"{cond.field!r}"))
                except InvalidRequest as exc:
                    for detail in exc.details or ():
                        at_where = detail.path.removeprefix("filter")
                        found.append(((*loc, f"where{at_where}"), _english(detail.key,
                                                                        detail.params)))
                    if not exc.details:
                        found.append(((*loc, "where"), exc.msg))
    return found


def _english(key: str, params: Mapping[str, Any]) -> str:
    return translate(key, DEFAULT_LOCALE, params)
