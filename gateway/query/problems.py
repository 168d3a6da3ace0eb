"""A query's problems, collected: message keys, paths, and the one error raised for them all."""

from __future__ import annotations

from typing import Any, Literal

from gateway.connector import EntityInfo, FieldInfo
from gateway.errors import (
    Detail,
    GatewayError,
    InvalidFilter,
    InvalidOrder,
    InvalidPage,
    InvalidRequest,
    first_problem,
)
from gateway.query.limits import QueryLimits, nesting_depth

__all__ = ["Area", "Problems"]

Area = Literal["filter", "orderBy", "page", "request"]
ERRORS: dict[Area, type[GatewayError]] = {
    "filter": InvalidFilter,
    "orderBy": InvalidOrder,
    "page": InvalidPage,
    "request": InvalidRequest,
}


class Problems:
    """Every problem found in one query, each with its path; raised together at the end."""

    def __init__(self, entity: EntityInfo | None, limits: QueryLimits) -> None:
        self.items: list[tuple[Area, Detail]] = []
        self.limits = limits
        # Field checks only when the entity lists its fields; `id` is always known.
        self.entity = entity if entity is not None and entity.fields else None

    def add(self, area: Area, path: str, key: str, /, **params: Any) -> None:
        """A problem at ``path``: a message key (gateway/messages) and its params."""
        self.items.append((area, Detail(path, key, params)))

    def too_deep(self, area: Area, path: str, raw: Any) -> bool:
        """Records a problem when ``raw`` nests past the bound: nothing below is looked at."""
        if nesting_depth(raw, self.limits.depth) <= self.limits.depth:
            return False
        self.add(area, path, "too_deep", max=self.limits.depth)
        return True

    def too_many(self, area: Area, path: str, items: list[Any], limit: int, key: str,
                 **params: Any) -> bool:
        if len(items) <= limit:
            return False
        self.add(area, path, key, max=limit, **params)
        return True

    def name_ok(self, area: Area, path: str, name: str) -> bool:
        if len(name) <= self.limits.name_chars:
            return True
        self.add(area, path, "name_too_long", max=self.limits.name_chars)
        return False

    def field(self, area: Area, path: str, name: str) -> FieldInfo | None:
        """The field's info; records a problem (and returns None) when unknown or unusable."""
        if self.entity is None:
            return None
        info = self.entity.field(name)
        if info is None:
            if name != "id":
                self.add(area, path, "unknown_field", field=name, entity=self.entity.name)
            return None
        if area == "filter" and not info.filterable:
            self.add(area, path, "field_not_filterable", field=name)
        if area == "orderBy" and not info.sortable:
            self.add(area, path, "field_not_sortable", field=name)
        return info

    def raise_if_any(self) -> None:
        if not self.items:
            return
        area, first = self.items[0]
        # The count tells how many; the list stays short, so a query of a million mistakes
        # does not earn an answer of a million details.
        raise ERRORS[area](
            *first_problem(first, len(self.items)),
            details=[detail for _, detail in self.items[: self.limits.details]],
        )

