"""A view answers exactly what filtering and ordering the mapped union directly gives.

Three in-memory members (view_world.py): ``a`` case-sensitive pushing everything, ``b``
case-insensitive pushing nothing (no sort, no counts), ``c`` case-insensitive with PAD SPACE,
its own id order, one sort key and no OR. Random data in each and random view queries (OR
groups on mapped, unmapped, ``id`` and ``source`` fields; 1-2 order keys with nulls; pages)
through ``run_query`` on the view must equal the oracle: the union of the members' mapped
records (their ``where`` applied) filtered with gateway/query/evaluate.py and sorted under the
view's collation. Pages concatenate to the whole answer; totalSize equals ``count``.
"""

from __future__ import annotations

import asyncio
from math import ceil
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from view_world import members, union, view

from gateway.query.evaluate import matches, sort_key
from gateway.query.execute import run_query
from gateway.query.model import Condition, Group, OrderKey, Query

NAMES = ["a", "A", "a ", "ab", "Ab", "b", "B", "", " ", "ß", "ss", "SS", None]
NUMS = [None, 0, 1, 2, 3, 10]
DAYS = [None, "2024-01-01", "2023-05-05", "2024-02-29"]
OPS = ["==", "!=", ">", ">=", "<", "<=", "in", "notIn", "contains", "startsWith",
       "endsWith", "isNull", "isNotNull"]
VALUES: dict[str, list[Any]] = {
    "name": [n for n in NAMES if n is not None], "n": [0, 1, 2, 3, 10], "d": DAYS[1:],
    "source": ["a", "B", "c", "z", "a:"], "id": ["a:x1", "B:X2", "c:3", "b:", "c:10"],
    "ghost": ["a"],
}


def _rows(prefix: str, fields: dict[str, list[Any]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    row = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in fields.items()})
    return st.lists(row, max_size=9).map(
        lambda rows: [{"id": f"{prefix}{i}", **r} for i, r in enumerate(rows)])


@st.composite
def _condition(draw: st.DrawFn) -> Condition:
    name = draw(st.sampled_from(sorted(VALUES)))
    op = draw(st.sampled_from(OPS))
    if op in ("isNull", "isNotNull"):
        return Condition(name, op)  # type: ignore[arg-type]
    pool = st.sampled_from(VALUES[name])
    if op in ("in", "notIn"):
        return Condition(name, op, tuple(draw(st.lists(pool, min_size=1, max_size=3))))  # type: ignore[arg-type]
    return Condition(name, op, draw(pool))  # type: ignore[arg-type]


_filter = st.lists(st.lists(_condition(), min_size=1, max_size=3).map(
    lambda cs: Group(tuple(cs))), max_size=3).map(tuple)
_order = st.lists(st.builds(OrderKey, st.sampled_from(["name", "n", "d", "source", "id"]),
                            st.booleans()), max_size=2, unique_by=lambda k: k.field).map(tuple)


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    a=_rows("x:", {"title": NAMES, "num": NUMS, "state": ["ok", "gone", "GONE"]}),
    b=_rows("y", {"name": NAMES, "n": NUMS, "d": DAYS}),
    c=_rows("z", {"label": NAMES, "day": DAYS}),
    case=st.sampled_from(["insensitive", "sensitive"]),
    filter=_filter, order=_order, size=st.sampled_from([1, 2, 5, 100]),
)
def test_view_answers_equal_the_mapped_union(
    a: list[dict[str, Any]], b: list[dict[str, Any]], c: list[dict[str, Any]], case: str,
    filter: tuple[Group, ...], order: tuple[OrderKey, ...], size: int,
) -> None:
    asyncio.run(_check(a, b, c, case, filter, order, size))


async def _check(a: list[dict[str, Any]], b: list[dict[str, Any]], c: list[dict[str, Any]],
                 case: str, filter: tuple[Group, ...], order: tuple[OrderKey, ...],
                 size: int) -> None:
    ms = members(a, b, c)
    v = view(ms, case)
    info = await v.describe("all")
    coll = v.collation("all")
    expected = sorted((r for r in union(v, ms) if matches(r, filter, info, collation=coll)),
                      key=sort_key(order, info, collation=coll))
    whole = await run_query(v, info, Query(filter, order, None, 1000, 1))
    assert whole.records == expected, (filter, order)
    assert whole.total == len(expected) == await v.count(info, filter)
    walked: list[Any] = []
    for page_no in range(1, ceil(len(expected) / size) + 2):
        page = await run_query(v, info, Query(filter, order, ("name",), size, page_no))
        assert page.total == len(expected)
        walked += page.records
    assert walked == [{"id": r["id"], "name": r["name"]} for r in expected]


async def test_a_source_condition_prunes_members_without_calls() -> None:
    ms = members([{"id": "x:1", "title": "q", "num": 1, "state": "ok"}],
                 [{"id": "y1", "name": "Q"}], [{"id": "z1", "label": "q"}])
    v = view(ms)
    info = await v.describe("all")
    f = (Group((Condition("source", "in", ("B", "c")),)),)
    done = await run_query(v, info, Query(f, (), None, 10, 1))
    assert [r["id"] for r in done.records] == ["b:y1", "c:z1"] and done.total == 2
    assert ms["a"].calls == []
    # an unmapped field is null on that member: b and c cannot match n == 1 / d == ...
    ms["c"].calls.clear()
    g = (Group((Condition("n", "==", 1),)),)
    assert (await run_query(v, info, Query(g, (), None, 10, 1))).total == 1
    assert ms["c"].calls == []
