"""An in-memory Connector with configurable Capabilities, and sample data, for query tests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.connector import (
    Capabilities,
    EntityInfo,
    FieldInfo,
    Page,
    PushedQuery,
    Record,
)
from gateway.errors import NotFound
from gateway.query.evaluate import matches, sort_key
from gateway.query.model import OPERATORS, Condition, Filter

FULL = Capabilities(
    operators=frozenset(OPERATORS), or_groups=True, sort=True, multi_sort=True,
    max_page=7, counts=True,
)
# Slingr-like: one sort key, no OR across groups, no text operators, no counts.
NARROW = Capabilities(
    operators=frozenset({"==", "!=", ">", ">=", "<", "<=", "in"}), or_groups=False, sort=True,
    multi_sort=False, max_page=7, counts=False,
)
BARE = Capabilities(
    operators=frozenset(), or_groups=False, sort=False, multi_sort=False, max_page=7,
    counts=False,
)

ENTITY = EntityInfo(
    "things",
    {
        "id": FieldInfo("id", "string"),
        "name": FieldInfo("name", "string"),
        "rev": FieldInfo("rev", "integer"),
        "score": FieldInfo("score", "number"),
        "active": FieldInfo("active", "boolean"),
        "born": FieldInfo("born", "date"),
        "seen": FieldInfo("seen", "datetime"),
        "tags": FieldInfo("tags", "string", sortable=False, multivalued=True),
        "notes": FieldInfo("notes", "string", filterable=False, sortable=False),
    },
)


@dataclass
class FakeConnector:
    """A backend that keeps its promises: it evaluates only what its Capabilities list (and
    asserts the planner never asks more), with gateway semantics, and records every call."""

    records: list[Record]
    capabilities: Capabilities = FULL
    name: str = "fake"
    entity: EntityInfo = ENTITY
    refuse: Callable[[Condition, FieldInfo | None], bool] = lambda c, f: False
    more: str = "exact"  # "exact": tell whether rows follow; "none": never say
    real_cap: int | None = None  # serve fewer rows per call than max_page (short pages)
    ignore_offset: bool = False  # a broken backend that always answers from the start
    shuffle_seed: int | None = 1  # unsorted answers come in this arbitrary but fixed order
    # A one-key backend (multi_sort=False) sorts by the pushed key only and breaks its ties in a
    # new random order on every call, so nothing may rely on its order among equal values.
    adversarial_ties: bool = True
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    # Matching and sort keys per filter/order, so long walks stay fast (records never change).
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return not self.refuse(condition, entity.field(condition.field))

    def _check(self, pushed: PushedQuery) -> None:
        caps = self.capabilities
        conds = [c for g in pushed.filter for c in g.conditions]
        assert all(c.operator in caps.operators for c in conds), pushed.filter
        assert all(not self.refuse(c, self.entity.field(c.field)) for c in conds)
        assert caps.or_groups or len(pushed.filter) <= 1, pushed.filter
        assert caps.sort or not pushed.order_by
        assert caps.multi_sort or len(pushed.order_by) <= 1, pushed.order_by

    def _rows(self, pushed: PushedQuery) -> list[Record]:
        ci = self.capabilities.case_insensitive
        if pushed.filter not in self._cache:
            self._cache[pushed.filter] = [
                r for r in self.records
                if matches(r, pushed.filter, self.entity, case_insensitive=ci)
            ]
        rows = list(self._cache[pushed.filter])
        if pushed.order_by:
            keys = self._cache.setdefault(pushed.order_by, {})
            make = sort_key(pushed.order_by, self.entity, case_insensitive=ci,
                            nulls_first=self.capabilities.nulls_first)

            def key(r: Record) -> Any:
                if id(r) not in keys:
                    keys[id(r)] = make(r)
                return keys[id(r)]

            if self.capabilities.multi_sort or not self.adversarial_ties:
                rows.sort(key=key)
            else:
                random.Random(len(self.calls)).shuffle(rows)
                rows.sort(key=lambda r: key(r)[:1])  # stable: ties stay shuffled
        elif self.shuffle_seed is not None:
            random.Random(self.shuffle_seed).shuffle(rows)
        return rows

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        self.calls.append(("query", offset, limit, pushed))
        assert 1 <= limit <= self.capabilities.max_page
        self._check(pushed)
        rows = self._rows(pushed)
        start = 0 if self.ignore_offset else offset
        take = min(limit, self.real_cap or limit)
        chunk = rows[start:start + take]
        if pushed.fields is not None:
            chunk = [{k: v for k, v in r.items() if k in pushed.fields} for r in chunk]
        more = start + len(chunk) < len(rows) if self.more == "exact" else None
        total = len(rows) if self.capabilities.page_totals else None
        return Page([dict(r) for r in chunk], more, total)

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        self.calls.append(("count", filter))
        assert self.capabilities.counts
        self._check(PushedQuery(filter=filter))
        return len(self._rows(PushedQuery(filter=filter)))

    async def entities(self) -> list[EntityInfo]:
        return [self.entity]

    async def describe(self, entity: str) -> EntityInfo:
        return self.entity

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        for r in self.records:
            if r["id"] == record_id:
                return dict(r)
        raise NotFound(record_id)

    async def check(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def query_calls(self) -> int:
        return sum(1 for c in self.calls if c[0] == "query")

    def count_calls(self) -> int:
        return sum(1 for c in self.calls if c[0] == "count")


def caps(base: Capabilities = FULL, **changes: Any) -> Capabilities:
    return replace(base, **changes)


def sample_records(n: int = 40, seed: int = 7) -> list[Record]:
    """Records with ties, nulls, missing keys, mixed case and list values."""
    rnd = random.Random(seed)
    names = ["alpha", "Alpha", "beta", "Gamma", "delta", "", None, "Ac, Inc", "acme"]
    out: list[Record] = []
    for i in range(n):
        r: Record = {"id": f"r{i:03d}"}
        for key, choices in (
            ("name", names),
            ("rev", [None, 0, 5, 10, 1000, "1000", 99]),
            ("score", [None, 1.5, 2, -3.25, 10]),
            ("active", [None, True, False]),
            ("born", [None, "2020-01-01", "2021-06-15", "2019-12-31"]),
            ("seen", [None, "2024-03-01T10:00:00Z", "2024-03-01T23:59:59+00:00",
                      "2024-03-02T00:00:00Z", "2024-02-29T23:00:00-02:00"]),
            ("tags", [None, [], ["red"], ["red", "Blue"], ["green"]]),
        ):
            value = rnd.choice(choices)
            if value is not None or rnd.random() < 0.5:  # sometimes null, sometimes missing
                r[key] = value
        out.append(r)
    return out
