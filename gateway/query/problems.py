"""A query's problems, collected: message texts, paths, and the one error raised for them all."""

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
)
from gateway.query.limits import QueryLimits, nesting_depth

__all__ = ["MESSAGES", "Area", "Problems"]

# Message id → English text; ``Detail.params`` fill the placeholders. The i18n catalogue mirrors it.
MESSAGES: dict[str, str] = {
    "body_not_object": "The request body must be a JSON object",
    "unknown_key": "Unknown key '{key}'",
    "bad_json": "Not valid JSON: {error}",
    "filter_not_list": "The filter must be a list of groups, each a list of conditions",
    "group_not_list": "A filter group must be a list of conditions",
    "empty_group": "A filter group must hold at least one condition",
    "condition_not_object": "A condition must be an object with field, operator and value",
    "missing_field": "The field is missing",
    "bad_field_name": "A field name must be a non-empty string",
    "unknown_field": "Unknown field '{field}' in {entity}",
    "field_not_filterable": "Field '{field}' cannot be used in a filter",
    "field_not_sortable": "Field '{field}' cannot be used to order records",
    "missing_operator": "The operator is missing",
    "bad_operator": "Unknown operator '{operator}'; use one of {allowed}",
    "missing_value": "Operator '{operator}' needs a value",
    "null_value": "Operator '{operator}' cannot compare with null; use isNull or isNotNull",
    "unexpected_value": "Operator '{operator}' takes no value",
    "bad_value": "The value must be a string, number, boolean or null",
    "bad_list_value": "Operator '{operator}' needs a JSON array or a comma-separated string",
    "bad_list_item": "A list item must be a string, number or boolean",
    "empty_list": "Operator '{operator}' needs at least one value",
    "bad_value_type": "'{value}' is not a valid {type} for field '{field}'",
    "order_not_list": "orderBy must be a list of {{field, order}} objects",
    "order_item_not_object": "An orderBy entry must be an object with field and order",
    "bad_order": "Order must be ASC or DESC, not '{order}'",
    "duplicate_order_field": "Field '{field}' appears more than once in orderBy",
    "fields_not_list": "fields must be a comma-separated string or a list of field names",
    "not_integer": "{name} must be an integer",
    "page_size_range": "pageSize must be between 1 and {max}",
    "page_no_range": "pageNo must be 1 or more",
    "page_too_far": "pageNo and pageSize may skip at most {max} records",
    # bounds (gateway/query/limits.py)
    "too_deep": "Lists and objects nest deeper than {max} levels",
    "too_many_groups": "A filter may hold at most {max} groups",
    "too_many_conditions": "A filter group may hold at most {max} conditions",
    "too_many_filter_conditions": "A filter may hold at most {max} conditions in all",
    "too_many_values": "Operator '{operator}' takes at most {max} values",
    "value_too_long": "A value may hold at most {max} characters",
    "name_too_long": "A field name may hold at most {max} characters",
    "too_many_order_keys": "orderBy may hold at most {max} entries",
    "too_many_fields": "fields may name at most {max} fields",
}

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
        self.items.append((area, Detail(path, MESSAGES[key].format(**params), key, params)))

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
        cls = ERRORS[area]
        more = len(self.items) - 1
        msg = f"{first.path}: {first.msg}" + (f" (and {more} more problems)" if more else "")
        # The count tells how many; the list stays short, so a query of a million mistakes
        # does not earn an answer of a million details.
        raise cls(
            msg,
            params={"path": first.path, "reason": first.msg, "count": len(self.items)},
            details=[detail for _, detail in self.items[: self.limits.details]],
        )

