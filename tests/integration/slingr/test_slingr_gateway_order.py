"""Slingr behind the gateway: a multi-key order is finished exactly, at a cost we can count."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.conftest import AUTH, ORG, oracle, walk
from tests.contract.harness_slingr import SlingrHarness

# The first key has many distinct values (with some ties); the later keys break those ties.
ORDER = [{"field": "numberOfEmployees", "order": "DESC"}, {"field": "type"},
         {"field": "name", "order": "DESC"}]
# A first key with four values: every boundary group is large.
COARSE = [{"field": "type", "order": "DESC"}, {"field": "numberOfEmployees"},
          {"field": "name", "order": "DESC"}]


@pytest.fixture
async def slingr(aiohttp_server: Any) -> SlingrHarness:
    h = SlingrHarness()
    await h.start(aiohttp_server)
    return h


def list_calls(h: SlingrHarness) -> int:
    return sum(1 for c in h.emulator.log
               if c.method == "GET" and c.path.endswith("/data/companies"))


@pytest.mark.parametrize(("page_no", "most_calls"), [
    (1, 6),  # distinct first-key values: count, 2 window calls, an edge group per call edge
    (4, 24),  # inside a group of 58 equal values: that group is read whole, still below a scan
])
async def test_multi_key_order_pushes_the_first_key_and_completes_ties(
    slingr: SlingrHarness, make_gateway: Any, page_no: int, most_calls: int
) -> None:
    # 250 companies, 10 per backend call: a scan would cost 26 calls per page.
    gw = await make_gateway({"slingr": slingr.source(per_call=10)})
    want = oracle(slingr, None, ORDER)
    slingr.emulator.reset_log()
    resp = await gw.post("/v1/records/slingr/companies/query", params={"orgId": ORG},
                         json={"orderBy": ORDER, "pageSize": 20, "pageNo": page_no}, headers=AUTH)
    body = await resp.json()
    assert resp.status == 200, body
    start = (page_no - 1) * 20
    assert [r["id"] for r in body["data"]] == [r["id"] for r in want[start:start + 20]]
    assert body["pagination"]["totalSize"] == len(want)
    assert list_calls(slingr) <= most_calls
    sorts = {c.query.get("_sortField") for c in slingr.emulator.log
             if c.path.endswith("/data/companies")}
    assert sorts <= {"numberOfEmployees", "id", None}  # only one key per call is pushed


@pytest.mark.parametrize("order", [ORDER, COARSE])
async def test_walking_a_multi_key_order_yields_every_record_once(
    slingr: SlingrHarness, make_gateway: Any, order: list[dict[str, str]]
) -> None:
    gw = await make_gateway({"slingr": slingr.source(per_call=25)})
    got, total = await walk(gw, slingr, {"orderBy": order}, page_size=30)
    want = oracle(slingr, None, order)
    assert total == len(want)
    assert [r["id"] for r in got] == [r["id"] for r in want]
