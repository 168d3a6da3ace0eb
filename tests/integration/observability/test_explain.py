"""explain=true (spec §13) on each backend: the plan of every strategy, answered without reading
records, refused as the query would be, and an estimate that bounds the calls the query then
makes (counted in the emulator's request log)."""

from __future__ import annotations

import random
import re
from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from tests.contract.backends import Harness
from tests.integration.observability.conftest import AUTH, EVERY_BACKEND, ORG

RECORDGATE_HARNESSES = EVERY_BACKEND

# A contains value no backend evaluates as the gateway does: Sugar and the Data Service refuse
# LIKE wildcards in it, Slingr a value ending in '/'. The gateway finishes it.
FINISHED = "a%/"
SHAPES: dict[str, dict[str, Any]] = {
    "plain": {"pageSize": 7},
    "filtered": {"filter": [[{"field": "TEXT", "operator": "startsWith", "value": "a"}],
                            [{"field": "CAT", "operator": "isNull"}]],
                 "orderBy": [{"field": "TEXT", "order": "DESC"}], "pageSize": 7},
    "two keys": {"orderBy": [{"field": "CAT"}, {"field": "TEXT", "order": "DESC"}],
                 "pageSize": 7},
    "finished": {"filter": [[{"field": "TEXT", "operator": "contains", "value": FINISHED}],
                            [{"field": "CAT", "operator": "isNotNull"}]],
                 "pageSize": 7},
}
# The strategy each shape gets: Slingr sorts by one key (ties); every backend leaves FINISHED
# to the gateway, which then walks the pushed superset (scan).
STRATEGIES = {
    "sugarcrm": {"plain": "window", "filtered": "window", "two keys": "window",
                 "finished": "scan"},
    "dataservice": {"plain": "window", "filtered": "window", "two keys": "window",
                    "finished": "scan"},
    "slingr": {"plain": "window", "filtered": "ties", "two keys": "ties", "finished": "scan"},
}
SERVER_TIMING = re.compile(
    r'gateway;dur=(\d+\.\d+)(?:, backend;dur=(\d+\.\d+);desc="(\d+) calls")?')


def body(h: Harness, shape: dict[str, Any]) -> dict[str, Any]:
    """``shape`` with the harness's text and category fields in place of TEXT and CAT."""
    text = orjson.dumps(shape).decode()
    text = text.replace('"TEXT"', f'"{h.roles.text}"').replace('"CAT"', f'"{h.roles.category}"')
    return orjson.loads(text)  # type: ignore[no-any-return]


async def explain(gw: TestClient[Any, Any], h: Harness, query: dict[str, Any],
                  status: int = 200, **params: str) -> dict[str, Any]:
    resp = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}/query",
                         params={"orgId": ORG, "explain": "true", **params}, json=query,
                         headers=AUTH)
    payload = await resp.json()
    assert resp.status == status, payload
    return payload  # type: ignore[no-any-return]


async def warm(gw: TestClient[Any, Any], h: Harness) -> None:
    """Log in and describe the entity (a query of one record), so that what follows makes only
    its own calls: a plan's estimate counts neither logins nor metadata."""
    resp = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}/query", params={"orgId": ORG},
                         json={"pageSize": 1}, headers=AUTH)
    assert resp.status == 200, await resp.text()
    h.emulator.log.clear()


def calls_in(header: str) -> int:
    found = SERVER_TIMING.fullmatch(header)
    assert found is not None, header
    return int(found.group(3) or 0)


async def test_each_strategy_is_explained_without_a_backend_call(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    await warm(gw, harness)
    for name, shape in SHAPES.items():
        query = body(harness, shape)
        resp = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                             params={"orgId": ORG, "explain": "true"}, json=query, headers=AUTH)
        answer = await resp.json()
        assert resp.status == 200 and answer["code"] == 0 and answer["msg"] == "OK", answer
        data = answer["data"]
        assert data["strategy"] == STRATEGIES[harness.type][name], (name, data)
        assert calls_in(resp.headers["Server-Timing"]) == 0
        assert data["page"] == {"pageNo": 1, "pageSize": 7}
        assert data["estimatedBackendCalls"] >= 1 and isinstance(data["estimateExact"], bool)
        full_order = [{"order": "ASC", **k} for k in query.get("orderBy", [])]
        assert data["orderBy"] == [*full_order, {"field": "id", "order": "ASC"}]
        if data["strategy"] == "window":
            assert data["residual"] == [] and data["pushed"]["filter"] == query.get("filter", [])
            assert data["pushed"]["orderBy"] == data["orderBy"] and not data["sortInGateway"]
        elif data["strategy"] == "ties":
            assert data["residual"] == [] and data["sortInGateway"] and data["fallsBackTo"]
            assert data["pushed"]["orderBy"] == data["orderBy"][:1]
        else:  # finished in the gateway: the whole filter is rechecked on a pushed superset
            assert data["residual"] == query["filter"] and data["notPushed"] == ["filter[0][0]"]
            assert data["pushed"]["filter"] == []  # group 0 has nothing pushable: no superset
            assert data["estimateExact"] is False
        assert data["estimateExact"] == (data["strategy"] == "window")
    assert harness.emulator.log == []  # no record read, no count: nothing at all


async def test_the_get_form_explains_the_same_plan(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    query = body(harness, SHAPES["two keys"])
    posted = await explain(gw, harness, query)
    resp = await gw.get(f"/v1/records/{harness.type}/{harness.roles.entity}", params={
        "orgId": ORG, "explain": "TRUE", "orderBy": orjson.dumps(query["orderBy"]).decode(),
        "pageSize": "7"}, headers=AUTH)
    assert resp.status == 200 and await resp.json() == posted


async def test_explain_refuses_what_the_query_would_refuse(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    bad = {"filter": [[{"field": harness.roles.text, "operator": "like", "value": "x"}]]}
    refused = await explain(gw, harness, bad, status=400)
    assert refused["error"] == "invalid_filter"
    assert refused["details"][0]["path"] == "filter[0][0].operator"
    too_big = await explain(gw, harness, {"pageSize": 100_000}, status=400)
    assert too_big["error"] == "invalid_page"
    gone = await gw.post(f"/v1/records/{harness.type}/NoSuchEntity/query",
                         params={"orgId": ORG, "explain": "true"}, json={}, headers=AUTH)
    assert gone.status == 404
    for value in ("yes", ""):
        odd = await explain(gw, harness, {}, status=400, explain=value)
        assert odd["details"] == [{"path": "explain", "msg": "explain must be true or false"}]
    twice = await gw.get(f"/v1/records/{harness.type}/{harness.roles.entity}?orgId={ORG}"
                         f"&explain=true&explain=true", headers=AUTH)
    assert twice.status == 400 and (await twice.json())["details"][0]["path"] == "explain"


async def test_explain_false_runs_the_query(harness: Harness, gw: TestClient[Any, Any]) -> None:
    for form in ("post", "get"):
        if form == "post":
            resp = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                                 params={"orgId": ORG, "explain": "false"},
                                 json={"pageSize": 3}, headers=AUTH)
        else:
            resp = await gw.get(f"/v1/records/{harness.type}/{harness.roles.entity}",
                                params={"orgId": ORG, "explain": "0", "pageSize": "3"},
                                headers=AUTH)
        answer = await resp.json()
        assert resp.status == 200 and len(answer["data"]) == 3, answer
        assert answer["pagination"]["totalSize"] == len(harness.records())


def variants(h: Harness, n: int, seed: int) -> list[dict[str, Any]]:
    """Queries of every shape, with random page sizes, pages (some past the data), fields and
    directions."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        query = body(h, SHAPES[list(SHAPES)[i % len(SHAPES)]])
        query["pageSize"] = rnd.choice([1, 4, 5, 6, 11, 23])
        query["pageNo"] = rnd.choice([1, 1, 2, 3, 7, 60])
        if rnd.random() < 0.3:
            query["fields"] = h.roles.text
        for key in query.get("orderBy", []):
            if rnd.random() < 0.5:
                key["order"] = rnd.choice(["ASC", "DESC"])
        out.append(query)
    return out


async def test_the_estimate_bounds_the_calls_the_query_makes(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    await warm(gw, harness)
    url = f"/v1/records/{harness.type}/{harness.roles.entity}/query"
    exact_seen = 0
    for query in variants(harness, 16, seed=13):
        plan = (await explain(gw, harness, query))["data"]
        assert harness.emulator.log == []
        resp = await gw.post(url, params={"orgId": ORG}, json=query, headers=AUTH)
        assert resp.status == 200, await resp.text()
        made = len(harness.emulator.log)
        assert 1 <= made <= plan["estimatedBackendCalls"], (query, plan, made)
        total = (await resp.json())["pagination"]["totalSize"]
        if plan["estimateExact"] and query["pageNo"] * query["pageSize"] <= total:
            exact_seen += 1
            assert made == plan["estimatedBackendCalls"], (query, plan, made)
        assert calls_in(resp.headers["Server-Timing"]) == made  # every call shows, none more
        harness.emulator.log.clear()
    assert exact_seen >= 3
