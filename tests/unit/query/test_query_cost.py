"""The plan's cost: the estimate bounds the calls a query makes (exact where it says so, for a
page within the data), on random queries over random fake backends that keep their promises
(full pages). The fake answers without suspending, so a fetch the count or an earlier answer
shows to lie past the data is skipped: the lowest count of calls the executor can make."""

from __future__ import annotations

import random

import pytest
from query_fakes import ENTITY, FakeConnector, sample_records
from test_query_execute import one_key_capabilities, random_capabilities, random_query

from gateway.connector import Capabilities
from gateway.errors import Unsupported
from gateway.query.cost import estimate, explain
from gateway.query.execute import run_query
from gateway.query.model import Query
from gateway.query.plan import plan


def with_totals(c: Capabilities, rnd: random.Random) -> Capabilities:
    """Sometimes a counting backend whose answers also carry the total (Slingr, Data Service)."""
    if not c.counts or rnd.random() < 0.5:
        return c
    return Capabilities(**{**{f: getattr(c, f) for f in (
        "operators", "or_groups", "sort", "multi_sort", "max_page", "counts",
        "case_insensitive", "nulls_first")}, "page_totals": True})


@pytest.mark.parametrize("seed", range(80))
async def test_the_estimate_bounds_the_calls(seed: int) -> None:
    rnd = random.Random(7000 + seed)
    c = with_totals(one_key_capabilities(rnd) if seed % 2 else random_capabilities(rnd), rnd)
    recs = sample_records(rnd.randint(0, 90), seed=seed)
    refused = rnd.choice(["name", "seen", None, None])
    conn = FakeConnector(recs, capabilities=c, refuse=lambda cond, f: cond.field == refused,
                         shuffle_seed=seed)  # full pages, and it says where data ends
    max_scan = rnd.choice([20, 60, 1000])
    for _ in range(6):
        query = random_query(rnd)
        if seed % 2 and rnd.random() < 0.6:  # mostly a pushable filter: the ties strategy
            query = Query(query.filter[:1], query.order_by, query.fields, query.page_size,
                          query.page_no)
        conn.calls.clear()
        try:
            res = await run_query(conn, ENTITY, query, max_scan=max_scan,
                                  concurrency=rnd.randint(1, 4))
        except Unsupported:  # more than max_scan to read: refused, within the bound too
            res = None
        planned = plan(query, ENTITY, c, conn.pushable)
        cost = estimate(planned, c, query.page_size, max_scan)
        assert len(conn.calls) <= cost.at_most, (planned.explain(), len(conn.calls), cost)
        if cost.exact and res is not None and query.offset + query.page_size <= res.total:
            assert len(conn.calls) == cost.at_most, (planned.explain(), conn.calls)
        shown = explain(planned, c, query, max_scan)
        assert (shown["estimatedBackendCalls"], shown["estimateExact"]) == (
            cost.at_most, cost.exact)
        assert shown["fallsBackTo"] == ("scan" if planned.strategy == "ties" else None)
