"""Executing queries over a fake backend: exact pages, totals and order whatever it can do."""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass, replace
from typing import Any

import pytest
from query_fakes import BARE, ENTITY, FULL, NARROW, FakeConnector, caps, sample_records

from gateway.connector import Capabilities, EntityInfo, Page, PushedQuery, Record
from gateway.errors import BackendFailure, Unsupported
from gateway.query.evaluate import matches, sort_key
from gateway.query.execute import project, run_query
from gateway.query.model import OPERATORS, Condition, Filter, Group, OrderKey, Query

FILTER: Filter = (
    Group((Condition("rev", ">=", "5"), Condition("name", "contains", "a"))),
    Group((Condition("active", "==", "true"),)),
)
ORDER = (OrderKey("name"), OrderKey("rev", True))

BACKENDS: dict[str, dict[str, Any]] = {
    "full": {"capabilities": FULL},
    "full, no counts": {"capabilities": caps(FULL, counts=False)},
    "full, silent about more": {"capabilities": caps(FULL, counts=False), "more": "none"},
    "full, short pages": {"capabilities": FULL, "real_cap": 3},
    "narrow": {"capabilities": NARROW},
    "narrow, short silent pages": {"capabilities": NARROW, "more": "none", "real_cap": 4},
    "bare": {"capabilities": BARE},
    "case-sensitive, nulls last": {"capabilities": caps(FULL, case_insensitive=False,
                                                        nulls_first=False)},
}


def expected(records: list[Record], query: Query, c: Capabilities) -> list[Record]:
    rows = [r for r in records if matches(r, query.filter, ENTITY,
                                          case_insensitive=c.case_insensitive)]
    rows.sort(key=sort_key(query.order_by, ENTITY, case_insensitive=c.case_insensitive,
                           nulls_first=c.nulls_first))
    return rows


async def walk(conn: FakeConnector, query: Query, **kw: Any) -> tuple[list[str], list[int]]:
    """Every page until an empty one: the ids in order and each page's totalSize."""
    ids: list[str] = []
    totals: list[int] = []
    for page_no in range(1, 1000):
        res = await run_query(conn, ENTITY, Query(query.filter, query.order_by, query.fields,
                                                  query.page_size, page_no), **kw)
        totals.append(res.total)
        if not res.records:
            return ids, totals
        assert len(res.records) <= query.page_size
        ids += [r["id"] for r in res.records]
    raise AssertionError("walk did not end")


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("page_size", [1, 6, 7, 10, 23])
async def test_walking_every_page_yields_each_match_once_in_order(
    backend: str, page_size: int, records: list[Record]
) -> None:
    conn = FakeConnector(records, **BACKENDS[backend])
    query = Query(FILTER, ORDER, page_size=page_size)
    want = [r["id"] for r in expected(records, query, conn.capabilities)]
    assert 3 < len(want) < len(records)
    ids, totals = await walk(conn, query)
    assert ids == want
    assert set(totals) == {len(want)}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
async def test_page_beyond_the_end_is_empty_with_the_true_total(
    backend: str, records: list[Record]
) -> None:
    conn = FakeConnector(records, **BACKENDS[backend])
    res = await run_query(conn, ENTITY, Query(FILTER, ORDER, page_size=10, page_no=50))
    assert res.records == []
    assert res.total == len(expected(records, Query(FILTER), conn.capabilities))


async def test_window_fills_a_big_page_from_small_backend_pages() -> None:
    recs = sample_records(100)
    conn = FakeConnector(recs, capabilities=FULL)
    res = await run_query(conn, ENTITY, Query(order_by=(OrderKey("rev"),), page_size=50,
                                              page_no=2))
    assert res.plan.strategy == "window" and res.total == 100
    assert [r["id"] for r in res.records] == [
        r["id"] for r in expected(recs, Query(order_by=(OrderKey("rev"),)), FULL)[50:100]]
    queries = [c for c in conn.calls if c[0] == "query"]
    assert [(c[1], c[2]) for c in queries] == [(50 + 7 * i, 7) for i in range(7)] + [(99, 1)]
    assert res.backend_calls == len(conn.calls) == 9  # 8 pages + 1 count


@pytest.mark.parametrize("page_no", [1, 3, 40])
async def test_window_takes_the_total_from_the_page_when_the_backend_reports_it(
    page_no: int,
) -> None:
    recs = sample_records(100)
    caps = replace(FULL, page_totals=True)
    conn = FakeConnector(recs, capabilities=caps)
    query = Query(order_by=(OrderKey("rev"),), page_size=20, page_no=page_no)
    res = await run_query(conn, ENTITY, query)
    assert res.total == 100
    want = expected(recs, Query(order_by=(OrderKey("rev"),)), caps)[query.offset:][:20]
    assert [r["id"] for r in res.records] == [r["id"] for r in want]
    assert not [c for c in conn.calls if c[0] == "count"]  # no separate count call
    assert res.backend_calls == len(conn.calls) == (3 if page_no < 40 else 1)


async def test_window_does_not_call_past_a_known_end() -> None:
    conn = FakeConnector(sample_records(10), capabilities=FULL)
    res = await run_query(conn, ENTITY, Query(page_size=70), concurrency=1)
    assert len(res.records) == 10
    assert conn.query_calls() == 2  # 0..7, then 7..10 with more=False; no empty tail calls


async def test_residual_or_across_groups_on_a_backend_without_or() -> None:
    recs = sample_records(60)
    conn = FakeConnector(recs, capabilities=NARROW)
    query = Query(FILTER, page_size=100)
    res = await run_query(conn, ENTITY, query)
    assert res.plan.pushed.filter == () and res.plan.residual == FILTER
    assert [r["id"] for r in res.records] == [r["id"] for r in expected(recs, query, NARROW)]
    assert all(not c[3].filter for c in conn.calls if c[0] == "query")


async def test_fields_are_projected_and_helper_fields_never_leak(records: list[Record]) -> None:
    conn = FakeConnector(records, capabilities=BARE)
    res = await run_query(conn, ENTITY, Query(FILTER, ORDER, fields=("born", "missing")))
    assert res.plan.extra_fields == ("rev", "name", "active")
    assert res.records and all(list(r) == ["id", "born", "missing"] for r in res.records)
    assert all(r["missing"] is None for r in res.records)
    assert project({"id": 1, "a": 2, "b": 3}, ("b",)) == {"id": 1, "b": 3}
    assert project({"id": 1, "a": 2}, None) == {"id": 1, "a": 2}


@pytest.mark.parametrize("capabilities", [FULL, caps(FULL, counts=False), BARE])
async def test_a_backend_whose_paging_does_not_advance_is_a_backend_failure(
    capabilities: Capabilities,
) -> None:
    conn = FakeConnector(sample_records(30), capabilities=capabilities, ignore_offset=True)
    with pytest.raises(BackendFailure) as exc:
        await run_query(conn, ENTITY, Query(page_size=20))
    assert exc.value.key == "paging_stuck_why" and "does not advance" in exc.value.msg
    assert conn.query_calls() < 10


@dataclass
class Liar(FakeConnector):
    """Says there is more but answers nothing."""

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        page = await super().query(entity, pushed, offset, limit)
        return Page(page.records, True) if page.records else Page([], True)


async def test_empty_page_with_more_promised_is_a_backend_failure() -> None:
    conn = Liar(sample_records(10), capabilities=BARE)
    with pytest.raises(BackendFailure, match="more were promised"):
        await run_query(conn, ENTITY, Query())


@pytest.mark.parametrize("counts", [True, False])
async def test_scans_beyond_max_scan_are_refused_as_unsupported(counts: bool) -> None:
    conn = FakeConnector(sample_records(40), capabilities=caps(BARE, counts=counts))
    with pytest.raises(Unsupported) as exc:
        await run_query(conn, ENTITY, Query(FILTER), max_scan=20)
    assert exc.value.key == "scan_too_large" and exc.value.params["limit"] == 20
    assert "20" in exc.value.msg and "fake/things" in exc.value.msg
    if counts:
        assert conn.query_calls() == 0  # the count alone told us
    else:
        assert conn.query_calls() == math.ceil(21 / 7)
    ok = await run_query(conn, ENTITY, Query(FILTER), max_scan=40)
    assert ok.total == len(expected(conn.records, Query(FILTER), BARE))


@dataclass
class Slow(FakeConnector):
    """Counts calls in flight; can fail at one offset."""

    in_flight: int = 0
    peak: int = 0
    fail_at: int | None = None

    async def query(self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
                    ) -> Page:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if offset == self.fail_at:
                raise BackendFailure("boom", sent=True)
            return await super().query(entity, pushed, offset, limit)
        finally:
            self.in_flight -= 1


async def test_concurrency_is_bounded_and_order_kept() -> None:
    recs = sample_records(100)
    conn = Slow(recs, capabilities=FULL)
    res = await run_query(conn, ENTITY, Query(page_size=100), concurrency=3)
    assert conn.peak == 3
    assert [r["id"] for r in res.records] == sorted(r["id"] for r in recs)


async def test_one_failed_chunk_fails_the_query_with_its_own_error() -> None:
    conn = Slow(sample_records(100), capabilities=FULL, fail_at=21)
    with pytest.raises(BackendFailure, match="boom"):
        await run_query(conn, ENTITY, Query(page_size=100))


# -- property: restricted backends answer exactly like evaluating everything in memory --------

POOLS: dict[str, list[Any]] = {
    "name": ["alpha", "ALPHA", "a", "", "Ac, Inc", "zeta", "b"],
    "rev": ["0", "5", "10", 99, "1000"],
    "score": ["-3.25", "1.5", 2, "10"],
    "active": ["true", "false", True],
    "born": ["2020-01-01", "2021-06-15", "2019-12-31"],
    "seen": ["2024-03-01", "2024-03-01T10:00:00Z", "2024-03-02T00:00:00+01:00"],
    "tags": ["red", "BLUE", "green"],
    "id": ["r003", "r010", "r020"],
}


def random_condition(rnd: random.Random) -> Condition:
    field = rnd.choice(sorted(POOLS))
    op = rnd.choice(OPERATORS)
    if op in ("isNull", "isNotNull"):
        value: Any = None
    elif op in ("in", "notIn"):
        value = tuple(rnd.sample(POOLS[field], rnd.randint(1, 3)))
    elif op in ("contains", "startsWith", "endsWith"):
        value = rnd.choice(["a", "A", "1", "-", "", "2024", "e"])
    else:
        value = rnd.choice(POOLS[field])
    return Condition(field, op, value)  # type: ignore[arg-type]


def random_query(rnd: random.Random) -> Query:
    groups = tuple(
        Group(tuple(random_condition(rnd) for _ in range(rnd.randint(1, 3))))
        for _ in range(rnd.choice([0, 1, 1, 2, 3]))
    )
    keys = rnd.sample(["name", "rev", "score", "active", "born", "seen", "id"], rnd.randint(0, 3))
    order = tuple(OrderKey(k, rnd.random() < 0.5) for k in keys)
    fields = rnd.choice([None, ("name",), ("rev", "seen")])
    return Query(groups, order, fields, rnd.choice([1, 4, 7, 15, 100]), rnd.randint(1, 4))


def random_capabilities(rnd: random.Random) -> Capabilities:
    ops = frozenset(o for o in OPERATORS if rnd.random() < 0.5)
    return Capabilities(operators=ops, or_groups=rnd.random() < 0.5, sort=rnd.random() < 0.7,
                        multi_sort=rnd.random() < 0.5, max_page=rnd.choice([1, 3, 7, 50]),
                        counts=rnd.random() < 0.5, case_insensitive=rnd.random() < 0.7,
                        nulls_first=rnd.random() < 0.5)


@pytest.mark.parametrize("seed", range(60))
async def test_any_split_answers_like_evaluating_everything(seed: int) -> None:
    rnd = random.Random(seed)
    recs = sample_records(rnd.randint(0, 45), seed=seed)
    c = random_capabilities(rnd)
    refused = rnd.choice(["name", "seen", "tags", None])
    conn = FakeConnector(recs, capabilities=c, refuse=lambda cond, f: cond.field == refused,
                         more=rnd.choice(["exact", "none"]), real_cap=rnd.choice([None, 2]),
                         shuffle_seed=seed)
    for _ in range(5):
        query = random_query(rnd)
        res = await run_query(conn, ENTITY, query, concurrency=rnd.randint(1, 4))
        want = expected(recs, query, c)
        assert res.total == len(want), res.plan.explain()
        page = want[query.offset:query.offset + query.page_size]
        assert res.records == [project(r, query.fields) for r in page], res.plan.explain()


def one_key_capabilities(rnd: random.Random) -> Capabilities:
    """A counting backend that sorts by one key (Slingr-like), with the comparisons the ties
    strategy needs, and random everything else (isNull/isNotNull sometimes missing)."""
    ops = frozenset(o for o in OPERATORS if rnd.random() < 0.6) | {"==", "<", ">"}
    return Capabilities(operators=ops, or_groups=rnd.random() < 0.5, sort=True,
                        multi_sort=False, max_page=rnd.choice([1, 3, 7, 50]), counts=True,
                        case_insensitive=rnd.random() < 0.7, nulls_first=rnd.random() < 0.5)


@pytest.mark.parametrize("seed", range(60))
async def test_one_key_backends_answer_like_evaluating_everything(seed: int) -> None:
    rnd = random.Random(1000 + seed)
    recs = sample_records(rnd.randint(0, 90), seed=seed)
    c = one_key_capabilities(rnd)
    refused = rnd.choice(["name", "seen", None, None])
    conn = FakeConnector(recs, capabilities=c, refuse=lambda cond, f: cond.field == refused,
                         more=rnd.choice(["exact", "none"]), real_cap=rnd.choice([None, 2]),
                         shuffle_seed=seed)
    for _ in range(6):
        query = random_query(rnd)
        if rnd.random() < 0.6:  # mostly a pushable filter, where the ties strategy applies
            query = Query(query.filter[:1], query.order_by, query.fields, query.page_size,
                          query.page_no)
        res = await run_query(conn, ENTITY, query, concurrency=rnd.randint(1, 4))
        want = expected(recs, query, c)
        assert res.total == len(want), res.plan.explain()
        page = want[query.offset:query.offset + query.page_size]
        assert res.records == [project(r, query.fields) for r in page], res.plan.explain()
