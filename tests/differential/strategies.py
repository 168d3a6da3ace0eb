"""Hypothesis strategies for the differential suite: adversarial datasets and queries per Spec.

Rows hold each role's values in the form the backend stores; conditions use values of the
field's type (mostly) so that most queries answer 200 and say something.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.differential.live import (
    CHOICES,
    DATES,
    DATETIMES,
    INTS,
    NUMBERS,
    PIECES,
    TEXTS,
    Spec,
    millis,
)

__all__ = ["dataset", "finished", "queries"]

_TEXT_OPS = ["==", "!=", ">", ">=", "<", "<=", "in", "notIn", "contains", "startsWith",
             "endsWith", "isNull", "isNotNull"]
_ORDERED_OPS = ["==", "!=", ">", ">=", "<", "<=", "in", "notIn", "isNull", "isNotNull"]
_EQ_OPS = ["==", "!=", "isNull", "isNotNull"]
OPS = {
    "text": _TEXT_OPS, "name": _TEXT_OPS, "nested": _TEXT_OPS,
    "integer": _ORDERED_OPS, "number": _ORDERED_OPS, "date": _ORDERED_OPS,
    "millis": _ORDERED_OPS,
    "datetime": ["==", "!=", ">", ">=", "<", "<=", "isNull", "isNotNull"],
    "stamp": ["==", "!=", ">", ">=", "<", "<=", "isNull", "isNotNull"],
    "boolean": _EQ_OPS, "choice": ["==", "!=", "in", "notIn", "isNull", "isNotNull"],
}
_MILLIS = [millis(d) for d in DATETIMES]
_NAMES = [t for t in TEXTS if t.strip()]


def _stored(role: str) -> st.SearchStrategy[Any]:
    """One record value for a field of this role (None: the field is empty)."""
    none = st.none()
    pools: dict[str, st.SearchStrategy[Any]] = {
        "text": st.one_of(none, st.sampled_from(TEXTS)),
        "nested": st.one_of(none, st.sampled_from(TEXTS)),
        "name": st.sampled_from(_NAMES),
        "integer": st.one_of(none, st.sampled_from(INTS)),
        "number": st.one_of(none, st.sampled_from(NUMBERS)),
        "date": st.one_of(none, st.sampled_from(DATES)),
        "datetime": st.one_of(none, st.sampled_from(DATETIMES)),
        "stamp": st.sampled_from(DATETIMES),
        "millis": st.one_of(none, st.sampled_from(_MILLIS)),
        "boolean": st.one_of(none, st.booleans()),
        "choice": st.one_of(none, st.sampled_from(CHOICES)),
    }
    return pools[role]


def _row(spec: Spec) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, role in spec.roles.items():
            value = draw(_stored(role))
            if role == "nested":
                head, _, inner = name.partition(".")
                row[head] = None if value is None else {inner: value}
            else:
                row[name] = value
        return row

    return build()


def dataset(spec: Spec) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Rows that share values often: a few distinct rows, each repeated (ties on every key)."""
    @st.composite
    def build(draw: st.DrawFn) -> list[dict[str, Any]]:
        distinct = draw(st.lists(_row(spec), min_size=1, max_size=10))
        picks = draw(st.lists(st.integers(0, len(distinct) - 1), min_size=3, max_size=24))
        return [dict(distinct[i]) for i in picks]

    return build()


def _value(role: str) -> st.SearchStrategy[Any]:
    """A condition value for a field of this role: mostly of its type, sometimes a string."""
    texts = st.sampled_from(TEXTS + PIECES)
    pools: dict[str, st.SearchStrategy[Any]] = {
        "text": texts, "name": texts, "nested": texts,
        "integer": st.one_of(st.sampled_from(INTS), st.sampled_from(["10", "9", "-1"])),
        "number": st.one_of(st.sampled_from(NUMBERS), st.sampled_from(["1.50", "-0.01", "10"])),
        "date": st.sampled_from(DATES),
        "datetime": st.one_of(st.sampled_from(DATES), st.sampled_from(DATETIMES)),
        "stamp": st.one_of(st.sampled_from(DATES), st.sampled_from(DATETIMES)),
        "millis": st.sampled_from([*_MILLIS, 0, -1]),
        "boolean": st.one_of(st.booleans(), st.sampled_from(["1", "0", "true"])),
        "choice": st.sampled_from([*CHOICES, "ACTIVE", "zz", "Pending"]),
    }
    return pools[role]


def _condition(spec: Spec) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        name = draw(st.sampled_from(sorted(spec.roles)))
        role = spec.roles[name]
        op = draw(st.sampled_from(OPS[role]))
        cond: dict[str, Any] = {"field": name, "operator": op}
        if op in ("in", "notIn"):
            cond["value"] = draw(st.lists(_value(role), min_size=1, max_size=3))
        elif op not in ("isNull", "isNotNull"):
            cond["value"] = draw(_value(role))
        return cond

    return build()


def _order(spec: Spec) -> st.SearchStrategy[list[dict[str, str]]]:
    sortable = sorted(f for f in spec.roles if f not in spec.unsortable)
    key = st.fixed_dictionaries({"field": st.sampled_from(sortable),
                                 "order": st.sampled_from(["ASC", "DESC"])})
    return st.lists(key, max_size=3, unique_by=lambda k: k["field"])


def queries(spec: Spec, count: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    """``count`` query bodies (filter, orderBy, maybe fields) and a page size for each."""
    group = st.lists(_condition(spec), min_size=1, max_size=3)
    body = st.fixed_dictionaries(
        {"filter": st.lists(group, min_size=0, max_size=3), "orderBy": _order(spec)},
        optional={"fields": st.lists(st.sampled_from(sorted(spec.roles)), min_size=1,
                                     max_size=3, unique=True)},
    )
    one = st.tuples(body, st.sampled_from([1, 2, 3, 5, 7]))
    return st.lists(one, min_size=count, max_size=count)


def finished(spec: Spec, filter: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The same filter, made so that no backend can evaluate it: the gateway finishes all of it.

    A filter gets an OR group no record matches and no backend evaluates (values with a double
    quote and LIKE wildcards are never pushed, and no text starts with both). The empty filter
    (every record) becomes ``isNull OR contains ""``, which is every record too (``contains ""``
    holds for any text and is never pushed)."""
    name = spec.text_field()
    if not filter:
        return [[{"field": name, "operator": "isNull"}],
                [{"field": name, "operator": "contains", "value": ""}]]
    return [*filter, [{"field": name, "operator": "startsWith", "value": '"%z'},
                      {"field": name, "operator": "startsWith", "value": '"_z'}]]
