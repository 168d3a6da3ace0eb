"""In-memory member connectors for the view tests: each keeps the promises of its Capabilities
(pushed filters and orders evaluated by gateway/query/evaluate.py under its own collation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.connector import Capabilities, EntityInfo, Page, PushedQuery, Record
from gateway.errors import NotFound
from gateway.query.evaluate import matches, sort_key
from gateway.query.model import Condition, Filter


@dataclass
class Member:
    name: str
    info: EntityInfo
    capabilities: Capabilities
    records: list[Record]
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        return True

    def _rows(self, pushed: PushedQuery) -> list[Record]:
        c = self.capabilities
        assert all(x.operator in c.operators for g in pushed.filter for x in g.conditions)
        assert c.or_groups or len(pushed.filter) <= 1
        assert c.sort or not pushed.order_by
        assert c.multi_sort or len(pushed.order_by) <= 1
        rows = [r for r in self.records
                if matches(r, pushed.filter, self.info, collation=c.order)]
        if pushed.order_by:
            rows.sort(key=sort_key(pushed.order_by, self.info, collation=c.order))
        else:
            rows.reverse()  # some fixed order that is not the id order
        return rows

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        self.calls.append(("query", offset, limit))
        assert limit <= self.capabilities.max_page
        rows = self._rows(pushed)
        chunk = rows[offset:offset + limit]
        if pushed.fields is not None:
            chunk = [{k: v for k, v in r.items() if k in pushed.fields} for r in chunk]
        return Page([dict(r) for r in chunk], offset + len(chunk) < len(rows))

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        self.calls.append(("count",))
        assert self.capabilities.counts
        return len(self._rows(PushedQuery(filter=filter)))

    async def entities(self) -> list[EntityInfo]:
        return [self.info]

    async def describe(self, entity: str) -> EntityInfo:
        return self.info

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        self.calls.append(("get", record_id))
        for r in self.records:
            if r["id"] == record_id:
                return dict(r)
        raise NotFound("record_not_found", {"id": record_id, "source": self.name,
                                            "entity": entity})

    async def check(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
