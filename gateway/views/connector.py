"""A view source as a Connector: each member planned by its own planner, the ordered answers
merged under the view's collation (spec §12). Reads only; writes come with the wiring.

How a page ``offset .. offset+limit`` of a view query is answered, exactly:

* Each member gets the view filter in its own fields (``ViewMember.part``): pruned members
  (a ``source`` condition, or conditions on fields the member leaves null, rule them out) are
  not called and count 0.
* ``window`` member: its part is exact and its own order is the view's order restricted to its
  records (``ViewMember.order``: same text and null rules, same field types; the view's ``id``
  tie-break orders a member's ids as the member does). ``run_query`` asks it for its first
  ``offset+limit`` records in that order, and its count. The view's first ``offset+limit``
  records hold at most that many of any member, each among that member's first ones.
* ``scan`` member: its part is a superset, or it orders differently. ``run_query`` reads every
  record of the superset (at most ``max_scan``); the gateway keeps those matching the whole view
  filter under the view's collation; its count is how many it kept.
* The candidates of all members are sorted with the view's key (its order, then ``id``) and
  the page cut from them; totalSize is the sum of the members' counts.

The view's ``id`` order, which ends every order, is by member source name, then by the member's
own order of its ids (``Collation.id_key``, so a member's tie-break and the view's agree). It
assumes what a case-insensitive backend's unique keys guarantee: no two ids of one member are
equal under its own collation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.addresses import check_id
from gateway.connector import (
    Capabilities,
    Collation,
    Connector,
    EntityInfo,
    FieldInfo,
    IdShape,
    Page,
    PushedQuery,
    Record,
)
from gateway.errors import GatewayError, NotFound, Unsupported
from gateway.query.evaluate import matches, sort_key
from gateway.query.execute import project, run_all, run_query
from gateway.query.model import OPERATORS, Condition, Filter, Query
from gateway.query.parse import parse_body
from gateway.query.plan import decisive, full_order
from gateway.views.config import ViewEntity, ViewSource
from gateway.views.mapping import ViewMember, split_id

__all__ = ["VIEW_ID", "ViewConnector", "view_collation"]

T = TypeVar("T")

VIEW_ID = IdShape(r"[A-Za-z0-9_-]{1,100}:[^\x00-\x1f\x7f]{1,255}",
                  "<member source>:<member id>")
_MAX_PAGE = 10_000  # one view call answers a whole page (the API's pages are at most this)


def view_collation(config: ViewEntity, members: Mapping[str, ViewMember] | None = None
                   ) -> Collation:
    """The view entity's collation; ``id`` ordered by member source, then as that member
    orders its own ids."""
    by_source = members or {}

    def id_key(view_id: Any) -> tuple[Any, ...]:
        parts = split_id(str(view_id))
        if parts is None:
            return (str(view_id), (), "")
        source, member_id = parts
        member = by_source.get(source)
        return (source, member.id_order(member_id) if member else (), member_id)

    return Collation(
        case_insensitive=config.collation.case == "insensitive",
        pad_space=config.collation.padSpace, nulls_first=True, id_key=id_key,
        id_order="member source, then the member's own id order",
    )


@dataclass
class _Entity:
    info: EntityInfo
    collation: Collation
    members: dict[str, ViewMember]


class ViewConnector:
    """The read role of a ``type: view`` source over its members' connectors (one org's).

    ``members[(source, entity)]`` is that member's connector and its description. It claims
    every operator and any order: it plans each member itself, so it answers the whole query.
    """

    def __init__(
        self, name: str, config: ViewSource,
        members: Mapping[tuple[str, str], tuple[Connector, EntityInfo]],
        *, max_scan: int = 100_000,
        forbidden: Mapping[str, Callable[[], GatewayError]] | None = None,
    ) -> None:
        self.name = name
        self.max_scan = max_scan
        # entity -> the refusal it answers (a member the consumer may not read, no partial)
        self._forbidden = dict(forbidden or {})
        self._entities: dict[str, _Entity] = {}
        for ename, entity in config.entities.items():
            plain = view_collation(entity)
            by_source: dict[str, ViewMember] = {}
            for m in entity.from_:
                conn, info = members[m.source, m.entity]
                where: Filter = ()
                if m.where is not None:
                    where = parse_body({"filter": m.where}, max_page_size=1, entity=info).filter
                by_source[m.source] = ViewMember(
                    m.source, conn, info, dict(m.map), where, dict(entity.fields), plain)
            collation = view_collation(entity, by_source)
            for member in by_source.values():
                member.view_collation = collation
            fields = {
                name: FieldInfo(name, kind, multivalued=any(
                    (f := mb.info.field(mb.map[name])) is not None and f.multivalued
                    for mb in by_source.values() if name in mb.map))
                for name, kind in entity.fields.items()
            }
            info = EntityInfo(ename, {**fields, "id": FieldInfo("id"),
                                      "source": FieldInfo("source")})
            self._entities[ename] = _Entity(info, collation, by_source)
        ci = all(e.collation.case_insensitive for e in self._entities.values())
        self.capabilities = Capabilities(
            operators=frozenset(OPERATORS), or_groups=True, sort=True, multi_sort=True,
            max_page=_MAX_PAGE, counts=True, page_totals=True, id_shape=VIEW_ID,
            case_insensitive=ci,
        )

    def _entity(self, name: str) -> _Entity:
        found = self._entities.get(name)
        if found is None:
            raise NotFound("unknown_entity", {"entity": name})
        refused = self._forbidden.get(name)
        if refused is not None:
            raise refused()
        return found

    def collation(self, entity: str) -> Collation:
        """The entity's own collation (the capabilities' is only a summary: views may differ)."""
        return self._entity(entity).collation

    async def entities(self) -> list[EntityInfo]:
        return [e.info for e in self._entities.values()]

    async def describe(self, entity: str) -> EntityInfo:
        return self._entity(entity).info

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return True

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        view = self._entity(entity.name)
        total, candidates = await self._answer(view, pushed.filter, pushed.order_by,
                                               offset + limit)
        candidates.sort(key=sort_key(pushed.order_by, view.info, collation=view.collation))
        page = [project(r, pushed.fields) for r in candidates[offset:offset + limit]]
        return Page(page, more=offset + len(page) < total, total=total)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        total, _ = await self._answer(self._entity(entity.name), filter, (), 1)
        return total

    async def _answer(self, view: _Entity, filter: Filter, order: tuple[Any, ...], n: int
                      ) -> tuple[int, list[Record]]:
        """(how many records match, candidates holding the first ``n`` of them in view
        order)."""
        full = decisive(full_order(tuple(order)))
        parts = await run_all(self._member(view, m, filter, full, n)
                                for m in view.members.values())
        return sum(t for t, _ in parts), [r for _, rs in parts for r in rs]

    async def _member(self, view: _Entity, member: ViewMember, filter: Filter,
                      order: tuple[Any, ...], n: int) -> tuple[int, list[Record]]:
        part = member.part(filter)
        if part.filter is None:
            return 0, []
        member_order = member.order(order)
        fields = member.fields()
        if part.exact and member_order is not None:
            done = await run_query(
                member.connector, member.info,
                Query(part.filter, member_order, fields, page_size=max(1, n), page_no=1),
                max_scan=self.max_scan)
            return done.total, [member.view_record(r) for r in done.records]
        size = self.max_scan
        if member.connector.capabilities.counts:
            # Learn the count first: a window of max_scan would start all its fetches at once.
            first = await run_query(member.connector, member.info,
                                    Query(part.filter, (), fields, page_size=1, page_no=1),
                                    max_scan=self.max_scan)
            size = max(1, min(first.total, self.max_scan + 1))
        done = await run_query(
            member.connector, member.info,
            Query(part.filter, (), fields, page_size=size, page_no=1),
            max_scan=self.max_scan)
        if done.total > self.max_scan:
            raise Unsupported("view_member_too_large", {
                "source": self.name, "entity": view.info.name, "member": member.source,
                "member_entity": member.info.name, "limit": self.max_scan})
        kept = [v for v in map(member.view_record, done.records)
                if matches(v, filter, view.info, collation=view.collation)]
        return len(kept), kept

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        view = self._entity(entity)
        check_id(self, self.name, record_id)
        source, member_id = split_id(record_id) or ("", "")
        member = view.members.get(source)
        missing = NotFound("record_not_found",
                           {"id": record_id, "source": self.name, "entity": entity})
        if member is None:
            raise missing
        check_id(member.connector, member.source, member_id)
        wanted = tuple(dict.fromkeys(
            (*member.fields(), *(c.field for g in member.where for c in g.conditions))))
        try:
            record = await member.connector.get(member.info.name, member_id, wanted)
        except NotFound:
            raise missing from None
        if member.where and not member.in_where(record):
            raise missing
        return project(member.view_record(record), fields)

    async def check(self) -> None:
        """Nothing of its own to prove: each member source is checked as itself."""

    async def aclose(self) -> None:
        """The members' connectors belong to their own sources."""
