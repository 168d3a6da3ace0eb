"""The ties strategy: exact multi-key pages from a backend that sorts by one key only.

The fake one-key backend breaks ties in a new random order on every call, so these tests prove
the gateway never relies on the backend's order among equal values.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from query_fakes import ENTITY, FULL, FakeConnector, caps

from gateway.connector import Capabilities, EntityInfo, FieldInfo, Record
from gateway.errors import BackendFailure, Unsupported
from gateway.query.evaluate import matches, sort_key
from gateway.query.execute import project, run_query
from gateway.query.model import Condition, Filter, Group, OrderKey, Query
from gateway.query.plan import plan

# Slingr-like: every operator, OR across groups, counts, but one sort key per call.
ONE_KEY = caps(FULL, multi_sort=False)


def tied_records(n: int = 150, seed: int = 3) -> list[Record]:
    """Few distinct values per field: big tie groups, case variants, nulls and missing keys,
    equal instants written differently, numbers as strings."""
    rnd = random.Random(seed)
    pools: dict[str, list[Any]] = {
        "name": ["alpha", "Alpha", "ALPHA", "beta", "Beta", "", None, "gamma"],
        "rev": [None, 1, 2, "2", 3, 10],
        "active": [None, True, False],
        "born": [None, "2020-01-01", "2021-06-15"],
        "seen": [None, "2024-03-01", "2024-03-01T00:00:00Z", "2024-02-29T22:00:00-02:00",
                 "2024-03-01T10:00:00Z"],
    }
    out: list[Record] = []
    for i in range(n):
        r: Record = {"id": f"t{rnd.randrange(10**6):06d}-{i}"}
        for key, choices in pools.items():
            value = rnd.choice(choices)
            if value is not None or rnd.random() < 0.5:
                r[key] = value
        out.append(r)
    return out


def expected(records: list[Record], query: Query, c: Capabilities) -> list[Record]:
    rows = [r for r in records if matches(r, query.filter, ENTITY,
                                          case_insensitive=c.case_insensitive)]
    rows.sort(key=sort_key(query.order_by, ENTITY, case_insensitive=c.case_insensitive,
                           nulls_first=c.nulls_first))
    return rows


async def walk(
    conn: FakeConnector, query: Query, **kw: Any
) -> tuple[list[str], set[int], set[str]]:
    """Every page until an empty one: ids in order, the totals seen, the strategies run."""
    ids: list[str] = []
    totals: set[int] = set()
    strategies: set[str] = set()
    for page_no in range(1, 1000):
        res = await run_query(conn, ENTITY, Query(query.filter, query.order_by, query.fields,
                                                  query.page_size, page_no), **kw)
        totals.add(res.total)
        strategies.add(res.plan.strategy)
        if not res.records:
            return ids, totals, strategies
        assert len(res.records) <= query.page_size
        ids += [r["id"] for r in res.records]
    raise AssertionError("walk did not end")


ORDERS = {
    "name": (OrderKey("name"),),
    "name desc": (OrderKey("name", True),),
    "name, rev desc": (OrderKey("name"), OrderKey("rev", True)),
    "rev desc, name": (OrderKey("rev", True), OrderKey("name")),
    "seen, name desc": (OrderKey("seen"), OrderKey("name", True)),
    "active desc, born, name": (OrderKey("active", True), OrderKey("born"), OrderKey("name")),
    "born desc, id desc": (OrderKey("born", True), OrderKey("id", True)),
}
BACKENDS: dict[str, dict[str, Any]] = {
    "one key": {"capabilities": ONE_KEY},
    "one key, case-sensitive, nulls last": {
        "capabilities": caps(ONE_KEY, case_insensitive=False, nulls_first=False)},
    "one key, no OR": {"capabilities": caps(ONE_KEY, or_groups=False)},
    "one key, short silent pages": {"capabilities": ONE_KEY, "real_cap": 3, "more": "none"},
    "one key, max_page 2": {"capabilities": caps(ONE_KEY, max_page=2)},
}
FILTERS: dict[str, Filter] = {
    "all": (),
    "rev >= 2": (Group((Condition("rev", ">=", "2"),)),),
    "name != beta, active not false": (
        Group((Condition("name", "!=", "beta"), Condition("active", "!=", False))),),
}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("order", sorted(ORDERS))
@pytest.mark.parametrize("page_size", [1, 6, 7, 23])
async def test_walking_every_page_matches_the_in_memory_order(
    backend: str, order: str, page_size: int
) -> None:
    recs = tied_records(40 if page_size == 1 else 100)  # one-record pages: a shorter walk
    conn = FakeConnector(recs, **BACKENDS[backend])
    for name, filter in FILTERS.items():
        query = Query(filter, ORDERS[order], page_size=page_size)
        want = [r["id"] for r in expected(recs, query, conn.capabilities)]
        ids, totals, strategies = await walk(conn, query)
        assert len(set(ids)) == len(ids), name  # no record twice
        assert ids == want, name
        assert totals == {len(want)}, name
        assert "ties" in strategies, name


def one_key_conn(recs: list[Record], **kw: Any) -> FakeConnector:
    return FakeConnector(recs, **({"capabilities": caps(ONE_KEY, max_page=7)} | kw))


def grouped(n: int, size: int) -> list[Record]:
    """``n`` records, ``rev`` = i // size: tie groups of ``size``, in shuffled storage order."""
    recs: list[Record] = [{"id": f"g{i:04d}", "rev": i // size, "name": f"n{i % 3}"}
                          for i in range(n)]
    random.Random(5).shuffle(recs)
    return recs


ORDER = (OrderKey("rev"), OrderKey("name", True))


async def page(conn: FakeConnector, page_no: int, size: int, desc: bool = False,
               **kw: Any) -> Any:
    """Run one page and check it against the in-memory answer."""
    query = Query(order_by=(OrderKey("rev", desc), ORDER[1]), page_size=size, page_no=page_no)
    res = await run_query(conn, ENTITY, query, **kw)
    want = expected(conn.records, query, conn.capabilities)
    assert res.records == [project(r, None) for r in want[query.offset:query.offset + size]]
    assert res.total == len(want)
    assert res.backend_calls == len(conn.calls)
    return res


async def test_a_page_across_two_small_groups_costs_four_calls() -> None:
    conn = one_key_conn(grouped(100, 5))
    res = await page(conn, 2, 4)  # positions 4..8: rev 0 ends, rev 1 starts
    assert res.plan.strategy == "ties" and res.plan.fallback is None
    # round 1: count + the window; round 2: the two boundary groups (5 records each)
    assert (conn.count_calls(), conn.query_calls()) == (1, 3)
    windows = [c[3] for c in conn.calls if c[0] == "query" and not c[3].filter]
    assert [w.order_by for w in windows] == [(OrderKey("rev"),)]
    groups = sorted(c[3].filter[0].conditions[0].value for c in conn.calls
                    if c[0] == "query" and c[3].filter)
    assert groups == [0, 1]


async def test_a_page_inside_one_group_counts_before_and_after_it() -> None:
    conn = one_key_conn(grouped(100, 20))
    res = await page(conn, 3, 3)  # positions 6..9, all rev 0, neither start nor end
    assert res.plan.strategy == "ties"
    # count + window; the group: 7 + count + 13 in 2 calls; before (< 0 or null, one OR) and after
    assert (conn.count_calls(), conn.query_calls()) == (4, 4)


async def test_first_and_last_pages_need_no_count_of_what_lies_before() -> None:
    conn = one_key_conn(grouped(40, 20))
    await page(conn, 1, 5)
    assert conn.count_calls() == 2  # the total, and the size of the 20-record group
    conn = one_key_conn(grouped(40, 20))
    await page(conn, 8, 5)  # positions 35..40: the end of the data
    assert conn.count_calls() == 2


async def test_a_single_call_holding_all_data_is_just_sorted() -> None:
    conn = one_key_conn(grouped(6, 3))
    res = await page(conn, 1, 7)
    assert res.plan.strategy == "ties" and len(conn.calls) == 2


async def test_scan_is_chosen_when_it_costs_fewer_calls() -> None:
    conn = one_key_conn(grouped(7, 3))
    res = await page(conn, 2, 3)  # ties needs >= 2 calls more, a scan of 7 records only 1
    assert res.plan.strategy == "scan" and res.plan.fallback is not None
    assert "a scan needs 1 backend calls" in res.plan.fallback
    assert res.plan.pushed.order_by == (OrderKey("id"),)
    assert (conn.count_calls(), conn.query_calls()) == (1, 2)  # the count is not repeated
    assert res.plan.explain()["fallback"] == res.plan.fallback


async def test_a_boundary_value_the_backend_cannot_filter_falls_back_to_scan() -> None:
    conn = one_key_conn(grouped(100, 5), refuse=lambda c, f: c.field == "rev" and c.value == 1)
    res = await page(conn, 2, 4)
    assert res.plan.strategy == "scan"
    assert res.plan.fallback == "the backend cannot filter on rev == 1"
    other = await page(one_key_conn(grouped(100, 5)), 4, 4)  # rev 2, 3: fine
    assert other.plan.strategy == "ties"


async def test_null_boundaries_need_is_null() -> None:
    recs = grouped(100, 5)
    for r in recs[:30]:
        r.pop("rev")
    no_null_ops = caps(ONE_KEY, operators=ONE_KEY.operators - {"isNull", "isNotNull"})
    for c, desc in [(ONE_KEY, False), (ONE_KEY, True), (caps(ONE_KEY, nulls_first=False), False),
                    (caps(ONE_KEY, nulls_first=False), True), (no_null_ops, False)]:
        fallbacks = []
        for page_no in (1, 3, 6, 7, 8, 14, 15, 20):  # nulls at the page's start, end, inside
            res = await page(FakeConnector(recs, capabilities=c), page_no, 5, desc)
            fallbacks.append(res.plan.fallback)
        if c is no_null_ops:
            assert "the backend cannot filter on rev isNull" in fallbacks
        else:
            assert fallbacks == [None] * 8


async def test_a_boundary_group_beyond_max_scan_is_unsupported() -> None:
    conn = one_key_conn(grouped(100, 50))
    with pytest.raises(Unsupported) as exc:
        await run_query(conn, ENTITY, Query(order_by=ORDER, page_size=5, page_no=3),
                        max_scan=40)
    assert exc.value.key == "scan_too_large" and "50 records share one rev value" in exc.value.msg
    ok = await run_query(conn, ENTITY, Query(order_by=ORDER, page_size=5, page_no=3),
                         max_scan=50)
    assert ok.total == 100 and ok.plan.strategy == "ties"


async def test_a_backend_ignoring_offsets_is_a_backend_failure() -> None:
    recs = [{"id": f"u{i:03d}", "rev": i, "name": "x"} for i in range(60)]
    for size in (10, 12):  # windows of two calls: the second goes back to the start
        conn = one_key_conn(recs, ignore_offset=True)
        with pytest.raises(BackendFailure) as exc:
            await run_query(conn, ENTITY, Query(order_by=ORDER, page_size=size, page_no=4))
        assert exc.value.key == "paging_stuck_why"


def yes(e: EntityInfo, c: Condition) -> bool:
    return True


def test_planner_picks_ties_only_when_it_can_complete_them() -> None:
    by_name = Query(order_by=(OrderKey("name"),))
    p = plan(by_name, ENTITY, ONE_KEY, yes)
    assert p.strategy == "ties" and p.pushed.order_by == (OrderKey("name"),)
    assert p.sort_in_gateway and p.order_by == (OrderKey("name"), OrderKey("id"))
    assert "round 1: 1 count + 15 fetches" in p.explain()["backendCalls"]
    for why, c, entity in [
        ("no counts", caps(ONE_KEY, counts=False), ENTITY),
        ("no <", caps(ONE_KEY, operators=ONE_KEY.operators - {"<"}), ENTITY),
        ("k1 not described", ONE_KEY, EntityInfo("things", {})),
        ("k1 not filterable", ONE_KEY,
         EntityInfo("things", {"name": FieldInfo("name", filterable=False)})),
    ]:
        assert plan(by_name, entity, c, yes).strategy == "scan", why
    for field in ("tags", "notes"):  # multivalued / not sortable: the backend cannot sort by it
        assert plan(Query(order_by=(OrderKey(field),)), ENTITY, ONE_KEY, yes).strategy == "scan"
    residual = Query((Group((Condition("name", "==", "a"),)),), (OrderKey("rev"),))
    assert plan(residual, ENTITY, ONE_KEY, lambda c, f: False).strategy == "scan"
    assert plan(by_name, ENTITY, ONE_KEY, yes, ties=False).strategy == "scan"


def test_keys_after_id_are_not_asked_of_a_one_key_backend() -> None:
    p = plan(Query(order_by=(OrderKey("id", True), OrderKey("name"))), ENTITY, ONE_KEY, yes)
    assert p.strategy == "window" and p.pushed.order_by == (OrderKey("id", True),)
    assert "1 count + 15 fetches" in p.explain()["backendCalls"]


async def test_keys_after_id_change_nothing_in_the_answer() -> None:
    recs = tied_records(40)
    conn = one_key_conn(recs)
    query = Query(order_by=(OrderKey("id", True), OrderKey("name")), page_size=9, page_no=2)
    res = await run_query(conn, ENTITY, query)
    assert [r["id"] for r in res.records] == sorted((r["id"] for r in recs), reverse=True)[9:18]


@pytest.mark.parametrize("desc", [False, True])
async def test_values_not_of_the_field_type_still_page_exactly(desc: bool) -> None:
    """'abc' and 1.5 in an integer field sort after every integer but are never < or > one:
    no range condition can stand for them, so a page touching them is scanned."""
    recs = grouped(60, 4)
    for i, r in enumerate(recs[:12]):
        r["rev"] = ["abc", 1.5, "ABC"][i % 3]
    query = Query(order_by=(OrderKey("rev", desc), OrderKey("name")), page_size=5)
    ids, totals, strategies = await walk(one_key_conn(recs), query)
    assert ids == [r["id"] for r in expected(recs, query, ONE_KEY)]
    assert totals == {60} and strategies == {"ties", "scan"}
