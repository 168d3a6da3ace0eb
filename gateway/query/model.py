"""The normalized query: conditions, AND groups, the OR filter, sort keys, fields, the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias, get_args

__all__ = [
    "NEGATIVE_OPERATORS",
    "OPERATORS",
    "VALUELESS_OPERATORS",
    "Condition",
    "Filter",
    "Group",
    "Operator",
    "OrderKey",
    "Query",
    "Scalar",
]

Operator: TypeAlias = Literal[
    "==", "!=", ">", ">=", "<", "<=", "in", "notIn",
    "contains", "startsWith", "endsWith", "isNull", "isNotNull",
]
OPERATORS: tuple[str, ...] = get_args(Operator)
VALUELESS_OPERATORS = frozenset({"isNull", "isNotNull"})
LIST_OPERATORS = frozenset({"in", "notIn"})
# Each of these is the exact complement of its positive twin (``!=`` is ``not ==``), so a record
# whose field is null or missing matches them: see gateway/query/evaluate.py.
NEGATIVE_OPERATORS = frozenset({"!=", "notIn", "isNotNull"})

Scalar: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Condition:
    """``field operator value``; ``value`` is a tuple for in/notIn and None for isNull/isNotNull."""

    field: str
    operator: Operator
    value: Scalar | tuple[Scalar, ...] = None


@dataclass(frozen=True, slots=True)
class Group:
    """Conditions that must all hold (AND)."""

    conditions: tuple[Condition, ...]


# OR of groups; the empty tuple matches every record.
Filter: TypeAlias = tuple[Group, ...]


@dataclass(frozen=True, slots=True)
class OrderKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A whole Records query as the user asked it, validated and normalized."""

    filter: Filter = ()
    order_by: tuple[OrderKey, ...] = ()
    fields: tuple[str, ...] | None = None  # None: every field
    page_size: int = 100
    page_no: int = 1

    @property
    def offset(self) -> int:
        return (self.page_no - 1) * self.page_size

    def filter_fields(self) -> set[str]:
        return {c.field for g in self.filter for c in g.conditions}
