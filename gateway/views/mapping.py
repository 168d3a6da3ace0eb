"""One view member: view records from its records, view ids, and the view query mapped onto it.

A view condition becomes, for one member, one of: a constant (``source``, or a field the member
does not map, whose value is null there: evaluated once on the view's own rules), the same
condition on the member's field (when the member decides it exactly as the view would), or
*relaxed* (dropped from what the member is asked, so the member answers a superset that the
gateway re-checks with the whole view filter). A member decides a condition exactly as the view
when its field has the view field's type and its collation compares text as the view's does;
conditions on ``id`` are always relaxed (the view id is ``<member source>:<member id>``).
Even under another collation, ``isNull``/``isNotNull`` and ``>``, ``>=``, ``<``, ``<=`` on a
non-text field are exact: gateway/query/evaluate.py reads no collation for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.connector import Collation, Connector, EntityInfo, FieldType, Record
from gateway.query.evaluate import matches, sort_key, value_at
from gateway.query.model import Condition, Filter, Group, OrderKey

__all__ = ["MemberPart", "ViewMember", "join_id", "split_id"]

_STRINGY = frozenset({"string", "file", "json"})
_COLLATION_FREE = frozenset({">", ">=", "<", "<="})
_NULL_TESTS = frozenset({"isNull", "isNotNull"})


def join_id(source: str, member_id: Any) -> str:
    """The view id of a member record."""
    return f"{source}:{member_id}"


def split_id(view_id: str) -> tuple[str, str] | None:
    """(member source, member id) of a view id, or None when it has no ``:``. Source names hold
    no ``:``, so the first one separates them and the member id may hold more."""
    source, sep, member_id = view_id.partition(":")
    return (source, member_id) if sep and source and member_id else None


@dataclass(frozen=True, slots=True)
class MemberPart:
    """What one member is asked for one view filter: ``filter`` (the member's fixed ``where``
    included) in member fields, None when the member cannot hold a match (pruned: no call);
    ``exact`` when its matches are exactly the member's records in the view's answer (else a
    superset the gateway re-checks)."""

    filter: Filter | None
    exact: bool


@dataclass
class ViewMember:
    """One member entity of a view: its connector and description as the planner sees them,
    the view field -> member field map, and its fixed ``where`` (parsed in member terms)."""

    source: str
    connector: Connector
    info: EntityInfo
    map: Mapping[str, str]
    where: Filter
    view_types: Mapping[str, FieldType]
    view_collation: Collation
    _id_order: Callable[[Record], tuple[Any, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._id_order = sort_key((OrderKey("id"),), self.info, collation=self.collation)

    @property
    def collation(self) -> Collation:
        return self.connector.capabilities.order

    @property
    def aligned(self) -> bool:
        """Whether the member compares and orders text and nulls as the view does."""
        m, v = self.collation, self.view_collation
        return (m.case_insensitive, m.pad_space, m.nulls_first) == (
            v.case_insensitive, v.pad_space, v.nulls_first)

    def same_type(self, view_field: str) -> bool:
        """Whether the mapped member field is described with the view field's type."""
        member_field = self.map.get(view_field)
        info = self.info.field(member_field) if member_field is not None else None
        return info is not None and info.type == self.view_types.get(view_field)

    def id_order(self, member_id: str) -> tuple[Any, ...]:
        """Where the member orders this id among its own (its ``id`` tie-break)."""
        return self._id_order({"id": member_id})

    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.map.values()))

    def view_record(self, record: Record) -> Record:
        """The member record as the view shows it."""
        out: Record = {"id": join_id(self.source, record.get("id")), "source": self.source}
        for name in self.view_types:
            member_field = self.map.get(name)
            out[name] = None if member_field is None else value_at(record, member_field)
        return out

    def in_where(self, record: Record) -> bool:
        return matches(record, self.where, self.info, collation=self.collation)

    # --- the query mapped ---------------------------------------------------------------------

    def _constant(self, cond: Condition) -> bool:
        """The condition on this member's records when it does not depend on the record."""
        probe: Record = {"source": self.source}
        return matches(probe, (Group((cond,)),), None, collation=self.view_collation)

    def _condition(self, cond: Condition) -> Condition | bool | None:
        """True/False when constant here, the member's condition when exact, None relaxed."""
        name = cond.field
        if name == "source":
            return self._constant(cond)
        if name == "id":
            return None
        head = name.split(".", 1)[0]
        if name not in self.view_types:
            return None if head in self.map else self._constant(cond)
        if name not in self.map:
            return self._constant(cond)  # null on every record of this member
        if not self.same_type(name):
            return None
        mapped = Condition(self.map[name], cond.operator, cond.value)
        if self.aligned or cond.operator in _NULL_TESTS:
            return mapped
        if cond.operator in _COLLATION_FREE and self.view_types[name] not in _STRINGY:
            return mapped
        return None

    def part(self, view_filter: Filter) -> MemberPart:
        """``view_filter`` for this member, its ``where`` ANDed."""
        exact = True
        groups: list[tuple[Condition, ...]] = []
        always = not view_filter
        for group in view_filter:
            kept: list[Condition] = []
            possible = True
            for cond in group.conditions:
                got = self._condition(cond)
                if got is False:
                    possible = False
                    break
                if got is None:
                    exact = False
                elif isinstance(got, Condition):
                    kept.append(got)
            if not possible:
                continue
            if not kept:
                always = True  # this group may hold for any record: the whole filter may
            groups.append(tuple(kept))
        if not always and not groups:
            return MemberPart(None, True)
        mapped: Filter = () if always else tuple(Group(g) for g in groups)
        return MemberPart(_and(self.where, mapped), exact)

    def order(self, view_order: tuple[OrderKey, ...]) -> tuple[OrderKey, ...] | None:
        """The view order in member keys, when the member's own order is the view's order
        restricted to its records (None: the gateway must sort its records). Keys constant
        here (``source``, unmapped fields) are left out."""
        if not self.aligned:
            return None
        out: list[OrderKey] = []
        for key in view_order:
            if key.field == "id":
                out.append(key)
                break
            if key.field == "source" or (
                key.field not in self.view_types and key.field.split(".", 1)[0] not in self.map
            ):
                continue
            if key.field not in self.view_types:
                return None  # a path into a mapped field: the gateway sorts
            if key.field not in self.map:
                continue
            if not self.same_type(key.field):
                return None
            out.append(OrderKey(self.map[key.field], key.descending))
        return tuple(out)


def _and(a: Filter, b: Filter) -> Filter:
    """``a AND b`` as an OR of AND groups (``()`` is true)."""
    if not a:
        return b
    if not b:
        return a
    return tuple(Group(x.conditions + y.conditions) for x in a for y in b)
