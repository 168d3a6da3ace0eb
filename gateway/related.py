"""Related records under entity scopes: what a consumer may not read is cut down to its ids.

A backend may embed related records in the records it returns (the Data Service expands a
relationship into the whole related record, Slingr embeds the related record's label, a Sugar
relate field copies one of its fields). A consumer scoped to some entities of a source must not
read the others that way. The connector says which entity each relationship field refers to
(``FieldInfo.related``); for a consumer not allowed that entity the gateway keeps only what
names the related record, its id, so links stay followable and nothing of the record leaks:

    {"Games": {"Id": "…", "Name": "Paris 2024", …}}  →  {"Games": {"Id": "…"}}
    {"company": {"id": "…", "label": "Acme"}}          →  {"company": {"id": "…"}}
    {"account_name": "Acme", "account_id": "…"}        →  {"account_name": null, "account_id": "…"}

Stripping rather than refusing: the consumer may read the record it asked for, and a read that
fails because of what happens to be linked to it would make scopes unusable. An allowed related
record is itself cut by the same rule (expansion can go several levels deep). A query may
not filter or sort on what would be cut (``company.label``), which would read it back one
comparison at a time: 403; the id and null checks stay allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from gateway.connector import EntityInfo, Record
from gateway.errors import Detail, Forbidden, GatewayError
from gateway.query.model import VALUELESS_OPERATORS, Query

if TYPE_CHECKING:
    from gateway.config.model import Consumer

__all__ = ["ANY_ENTITY", "ID_KEYS", "Cut", "check_query", "cut_related", "plan_cut"]

log = structlog.get_logger("gateway.related")

# ``FieldInfo.related`` when the backend does not say which entity: only a consumer allowed
# every entity of the source may read it whole.
ANY_ENTITY = "*"
# The keys that name a related record in an embedded one (Slingr and gateway ``id``, Data
# Service ``Id``): what a cut keeps.
ID_KEYS = ("id", "Id")
# Relationship levels followed into allowed related records; the Data Service expands at most 3.
MAX_DEPTH = 4
# No entity is called this; a scope pattern matches it only when it matches any name at all.
_EVERY_ENTITY = "\x00" * 16

Describe = Callable[[str], Awaitable[EntityInfo]]


@dataclass(frozen=True, slots=True)
class Cut:
    """What one consumer may not see in one entity's records: fields cut to their ids, fields
    hidden (copies of a related record's data), and allowed relationships whose embedded
    records need their own cut."""

    to_ids: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    nested: Mapping[str, Cut] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.to_ids or self.hidden or self.nested)

    def apply(self, record: Record) -> Record:
        """The record as this consumer may see it (a copy when anything changes)."""
        if not any(k in record for k in (*self.to_ids, *self.hidden, *self.nested)):
            return record
        out = dict(record)
        for name in self.hidden:
            if name in out:
                out[name] = None
        for name in self.to_ids:
            if name in out:
                out[name] = _ids_only(out[name])
        for name, inner in self.nested.items():
            if name in out:
                out[name] = _nested(out[name], inner)
        return out


    def reveals(self, path: str, *, null_check: bool = False) -> bool:
        """Whether comparing or sorting on the dotted ``path`` reads something this cut hides
        (a related record's id and whether it is set are never hidden)."""
        top, _, rest = path.partition(".")
        if top in self.hidden or top in self.to_ids:
            if not rest:
                return not null_check
            return top in self.hidden or rest not in ID_KEYS
        inner = self.nested.get(top)
        return inner is not None and bool(rest) and inner.reveals(rest, null_check=null_check)


def _ids_only(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: value[k] for k in ID_KEYS if k in value}
    if isinstance(value, list):
        return [_ids_only(v) for v in value]
    return value  # null, or a bare id (a relationship the backend did not expand)


def _nested(value: Any, cut: Cut) -> Any:
    if isinstance(value, Mapping):
        return cut.apply(dict(value))
    if isinstance(value, list):
        return [_nested(v, cut) for v in value]
    return value


def _allows_every_entity(consumer: Consumer, source: str) -> bool:
    return consumer.allows_entity(source, _EVERY_ENTITY)


async def plan_cut(
    consumer: Consumer | None, source: str, info: EntityInfo, describe: Describe
) -> Cut:
    """The cut for ``consumer`` reading ``info``'s records on ``source``; empty when its scopes
    allow every entity of the source (then no related entity is described at all)."""
    if consumer is None or consumer.scopes.entities is None:
        return Cut()
    if _allows_every_entity(consumer, source):
        return Cut()
    known: dict[str, EntityInfo | None] = {info.name: info}

    async def entity(name: str) -> EntityInfo | None:
        if name not in known:
            try:
                known[name] = await describe(name)
            except GatewayError as err:  # fail closed: its records are cut to ids
                log.warning("related_entity_unknown", source=source, entity=name,
                            error=err.error)
                known[name] = None
        return known[name]

    async def plan(of: EntityInfo, depth: int) -> Cut:
        to_ids: set[str] = set()
        hidden: set[str] = set()
        nested: dict[str, Cut] = {}
        for f in of.fields.values():
            if f.related is None:
                continue
            allowed = f.related != ANY_ENTITY and consumer.allows_entity(source, f.related)
            if not allowed:
                (hidden if f.related_copy else to_ids).add(f.name)
                continue
            if f.related_copy:
                continue  # an allowed copy is one plain value
            target = await entity(f.related) if depth < MAX_DEPTH else None
            if target is None:
                to_ids.add(f.name)  # too deep, or not described: nothing beyond its id
                continue
            inner = await plan(target, depth + 1)
            if inner:
                nested[f.name] = inner
        return Cut(frozenset(to_ids), frozenset(hidden), nested)

    return await plan(info, 1)


async def check_query(
    query: Query, consumer: Consumer | None, source: str, info: EntityInfo, describe: Describe
) -> None:
    """403 when ``query`` filters or sorts on what ``consumer`` would see cut."""
    cut = await plan_cut(consumer, source, info, describe)
    if not cut:
        return
    refused: list[tuple[str, str]] = [
        (f"filter[{g}][{c}].field", cond.field)
        for g, group in enumerate(query.filter) for c, cond in enumerate(group.conditions)
        if cut.reveals(cond.field, null_check=cond.operator in VALUELESS_OPERATORS)
    ]
    refused += [(f"orderBy[{i}].field", key.field) for i, key in enumerate(query.order_by)
                if cut.reveals(key.field)]
    if refused:
        raise Forbidden(
            "related_not_allowed", {"field": refused[0][1]},
            details=[Detail(path, "related_not_allowed", {"field": name})
                     for path, name in refused],
        )


async def cut_related(
    records: list[Record], consumer: Consumer | None, source: str, info: EntityInfo,
    describe: Describe,
) -> list[Record]:
    """``records`` of ``info`` as ``consumer`` may see them (see the module docstring)."""
    cut = await plan_cut(consumer, source, info, describe)
    return [cut.apply(r) for r in records] if cut else records
