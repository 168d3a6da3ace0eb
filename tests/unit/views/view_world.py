"""Three members with different capabilities and collations, and the view over them."""

from __future__ import annotations

from typing import Any

from view_fakes import Member

from gateway.connector import Capabilities, Collation, EntityInfo, FieldInfo, Record
from gateway.query.evaluate import matches
from gateway.query.model import OPERATORS
from gateway.views.config import ViewSource
from gateway.views.connector import ViewConnector

# Case-sensitive, pushes everything (Slingr-like text rules with a full planner).
SENSITIVE = Collation(case_insensitive=False, nulls_first=True)
# Case-insensitive, PAD SPACE, its own id order (SQL-Server-like), one sort key, no OR.
PADDED = Collation(case_insensitive=True, pad_space=True, nulls_first=True,
                   id_key=lambda s: str(s)[::-1])
FOLDED = Collation(case_insensitive=True, nulls_first=True)

A = EntityInfo("things", {"id": FieldInfo("id"), "title": FieldInfo("title"),
                          "num": FieldInfo("num", "integer"),
                          "state": FieldInfo("state")})
B = EntityInfo("items", {"id": FieldInfo("id"), "name": FieldInfo("name"),
                         "n": FieldInfo("n", "integer"), "d": FieldInfo("d", "date")})
C = EntityInfo("rows", {"id": FieldInfo("id"), "label": FieldInfo("label"),
                        "day": FieldInfo("day", "date")})


def caps(collation: Collation, **kw: Any) -> Capabilities:
    base: dict[str, Any] = dict(operators=frozenset(OPERATORS), or_groups=True, sort=True,
                                multi_sort=True, max_page=3, counts=True)
    return Capabilities(**{**base, **kw}, collation=collation)


def config(case: str = "insensitive") -> ViewSource:
    return ViewSource.model_validate({"type": "view", "entities": {"all": {
        "fields": {"name": "string", "n": "integer", "d": "date"},
        "collation": {"case": case},
        "from": [
            {"source": "a", "entity": "things", "map": {"name": "title", "n": "num"},
             "where": [[{"field": "state", "operator": "!=", "value": "gone"}]]},
            {"source": "b", "entity": "items", "map": {"name": "name", "n": "n", "d": "d"}},
            {"source": "c", "entity": "rows", "map": {"name": "label", "d": "day"}},
        ]}}})


def members(a: list[Record], b: list[Record], c: list[Record]) -> dict[str, Member]:
    return {
        "a": Member("a", A, caps(SENSITIVE), a),
        "b": Member("b", B, caps(FOLDED, operators=frozenset(), or_groups=False, sort=False,
                                 multi_sort=False, counts=False), b),
        "c": Member("c", C, caps(PADDED, multi_sort=False, or_groups=False, max_page=2), c),
    }


def view(ms: dict[str, Member], case: str = "insensitive", max_scan: int = 10_000
         ) -> ViewConnector:
    return ViewConnector("all", config(case),
                         {(m.name, m.info.name): (m, m.info) for m in ms.values()},
                         max_scan=max_scan)


def union(v: ViewConnector, ms: dict[str, Member]) -> list[Record]:
    """Every view record, built directly: the oracle's input."""
    out: list[Record] = []
    for m in ms.values():
        member = v._entities["all"].members[m.name]
        out += [member.view_record(r) for r in m.records
                if matches(r, member.where, m.info, collation=m.capabilities.order)]
    return out
