"""Views (spec §12) through the gateway: real HTTP over loopback to the Sugar and Slingr emulators.

The view ``all/customers`` federates ``sugarcrm/Accounts`` and ``slingr/companies``. Its answers
are checked against each member queried directly through the gateway, mapped and merged by hand
(the view's order: its keys under case-insensitive text, nulls first, then ``source``, then
the member's id). Scopes: a member the consumer may not read makes the view 403, or, with
``partial: allow``, is left out without a single call to its backend.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.config.load import ConfigError
from tests.contract.backends import HARNESSES, Harness

ORG = "acme"
KEY, SUGAR_ONLY, NO_SLINGR_PARTIAL = "view-key-0001", "view-key-0002", "view-key-0003"
MEMBERS = ("sugarcrm", "slingr")


def _auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _view(partial: str = "deny", **entity: Any) -> dict[str, Any]:
    return {"type": "view", "entities": {"customers": {
        "fields": {"name": "string", "city": "string", "kind": "string"},
        "partial": partial,
        "from": [
            {"source": "sugarcrm", "entity": "Accounts",
             "map": {"name": "name", "city": "billing_address_city", "kind": "industry"}},
            {"source": "slingr", "entity": "companies",
             "map": {"name": "name", "kind": "type"}},
        ],
        **entity}}}


@pytest.fixture
async def members(aiohttp_server: Any) -> dict[str, Harness]:
    found: dict[str, Harness] = {}
    for name in MEMBERS:
        h = HARNESSES[name]()
        await h.start(aiohttp_server)
        found[name] = h
    return found


async def _gateway(make_gateway: Any, members: dict[str, Harness],
                   view: dict[str, Any] | None = None) -> TestClient[Any, Any]:
    return await make_gateway(  # type: ignore[no-any-return]
        {**{n: h.source() for n, h in members.items()}, "all": view or _view()},
        consumers=[
            {"name": "all", "apiKey": KEY, "orgs": [ORG]},
            {"name": "sugar-only", "apiKey": SUGAR_ONLY, "orgs": [ORG],
             "scopes": {"sources": ["all", "sugarcrm"]}},
            {"name": "no-slingr", "apiKey": NO_SLINGR_PARTIAL, "orgs": [ORG],
             "scopes": {"entities": ["all/*", "sugarcrm/*"]}},
        ],
        server={"maxScanRecords": 5000},
    )


async def _json(resp: Any, status: int = 200) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


async def _all_direct(gw: TestClient[Any, Any], source: str, entity: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        body = await _json(await gw.post(f"/v1/records/{source}/{entity}/query",
                                         params={"orgId": ORG}, headers=_auth(),
                                         json={"pageSize": 500, "pageNo": page,
                                               "orderBy": [{"field": "id"}]}))
        out.extend(body["data"])
        if len(body["data"]) < 500:
            return out
        page += 1


async def _by_hand(gw: TestClient[Any, Any]) -> list[dict[str, Any]]:
    """Every view record, made from the members' own answers: mapped, ``id`` and ``source``."""
    view = _view()["entities"]["customers"]
    out: list[dict[str, Any]] = []
    for member in view["from"]:
        for r in await _all_direct(gw, member["source"], member["entity"]):
            rec = {f: r.get(mf) for f, mf in member["map"].items()}
            rec.update({f: None for f in view["fields"] if f not in member["map"]})
            rec["id"], rec["source"] = f"{member['source']}:{r['id']}", member["source"]
            rec["_member_id"] = r["id"]
            out.append(rec)
    return out


def _key(field: str) -> Any:
    def key(r: dict[str, Any]) -> Any:
        v = r[field]
        if isinstance(v, str):
            v = v.casefold()
        return (v is not None, v)  # nulls first
    return key


def _ordered(records: list[dict[str, Any]], field: str, desc: bool) -> list[str]:
    # The view's tie-break: member source name, then the member's id (both members' ids are
    # lower-case hex here, so the members' own id orders agree with plain text order).
    tie = sorted(records, key=lambda r: (r["source"], r["_member_id"].casefold()))
    return [r["id"] for r in sorted(tie, key=_key(field), reverse=desc)]


async def _walk(gw: TestClient[Any, Any], body: dict[str, Any], size: int
                ) -> tuple[list[str], int]:
    ids: list[str] = []
    page, total = 1, -1
    while True:
        got = await _json(await gw.post("/v1/records/all/customers/query", params={"orgId": ORG},
                                        headers=_auth(), json={**body, "pageSize": size,
                                                               "pageNo": page}))
        total = got["pagination"]["totalSize"]
        ids.extend(r["id"] for r in got["data"])
        if len(got["data"]) < size:
            return ids, total
        page += 1


async def test_view_query_is_the_members_mapped_and_merged(make_gateway: Any,
                                                           members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members)
    every = await _by_hand(gw)
    assert {r["source"] for r in every} == set(MEMBERS)
    names = sorted(r["name"].casefold() for r in every if r["name"] is not None)
    middle = names[len(names) // 2]
    cases: list[tuple[list[list[dict[str, Any]]], str, bool, Any]] = [
        ([], "name", False, lambda r: True),
        ([[{"field": "name", "operator": ">", "value": middle}]], "kind", True,
         lambda r: r["name"] is not None and r["name"].casefold() > middle),
        ([[{"field": "city", "operator": "isNull"}]], "name", True,
         lambda r: r["city"] is None),
        ([[{"field": "source", "operator": "==", "value": "slingr"}],
          [{"field": "name", "operator": "isNull"}]], "name", False,
         lambda r: r["source"] == "slingr" or r["name"] is None),
    ]
    for flt, field, desc, keep in cases:
        want = _ordered([r for r in every if keep(r)], field, desc)
        order = [{"field": field, "order": "DESC" if desc else "ASC"}]
        got, total = await _walk(gw, {"filter": flt, "orderBy": order}, 7)
        assert total == len(want), flt
        assert got == want, flt
        first = await _json(await gw.post("/v1/records/all/customers/query",
                                          params={"orgId": ORG}, headers=_auth(),
                                          json={"filter": flt, "orderBy": order,
                                                "pageSize": 25}))
        assert [r["id"] for r in first["data"]] == want[:25]


async def test_get_by_view_id_and_unknown_member(make_gateway: Any, members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members)
    sugar = members["sugarcrm"].records()[0]
    got = (await _json(await gw.get(f"/v1/records/all/customers/sugarcrm:{sugar['id']}",
                                    params={"orgId": ORG}, headers=_auth())))["data"]
    assert got["id"] == f"sugarcrm:{sugar['id']}" and got["source"] == "sugarcrm"
    assert got["name"] == sugar["name"] and got["city"] == sugar.get("billing_address_city")
    slingr = members["slingr"].records()[0]
    got = (await _json(await gw.get(f"/v1/records/all/customers/slingr:{slingr['id']}",
                                    params={"orgId": ORG}, headers=_auth())))["data"]
    assert got["source"] == "slingr" and got["city"] is None and got["name"] == slingr["name"]
    missing = await _json(await gw.get("/v1/records/all/customers/nosuch:abc",
                                       params={"orgId": ORG}, headers=_auth()), 404)
    assert missing["error"] == "not_found"


async def test_discovery_and_explain(make_gateway: Any, members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members)
    listed = await _json(await gw.get("/v1/sources", params={"orgId": ORG}, headers=_auth()))
    assert {"name": "all", "type": "view"}.items() <= next(
        s for s in listed["data"] if s["name"] == "all").items()
    entities = (await _json(await gw.get("/v1/sources/all/entities", params={"orgId": ORG},
                                         headers=_auth())))["data"]
    fields = {f["name"] for f in entities[0]["fields"]}
    assert entities[0]["name"] == "customers"
    assert {"id", "source", "name", "city", "kind"} <= fields
    plan = await _json(await gw.post("/v1/records/all/customers/query",
                                     params={"orgId": ORG, "explain": "true"},
                                     headers=_auth(), json={"orderBy": [{"field": "name"}]}))
    assert "strategy" in plan["data"]


async def test_source_condition_prunes_without_calls(make_gateway: Any,
                                                     members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members)
    # Descriptions are made at startup; from here the slingr backend must see nothing.
    slingr = members["slingr"].emulator
    before = len(slingr.log)
    body = {"filter": [[{"field": "source", "operator": "==", "value": "sugarcrm"}]]}
    got = await _json(await gw.post("/v1/records/all/customers/query", params={"orgId": ORG},
                                    headers=_auth(), json=body))
    assert got["data"] and {r["source"] for r in got["data"]} == {"sugarcrm"}
    assert len(slingr.log) == before


async def test_member_scopes(make_gateway: Any, members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members)
    url = "/v1/records/all/customers/query"
    refused = await _json(await gw.post(url, params={"orgId": ORG}, headers=_auth(SUGAR_ONLY),
                                        json={}), 403)
    assert refused["error"] == "forbidden" and "slingr/companies" in refused["msg"]
    refused = await _json(await gw.post(url, params={"orgId": ORG},
                                        headers=_auth(NO_SLINGR_PARTIAL), json={}), 403)
    sugar_id = members["sugarcrm"].records()[0]["id"]
    await _json(await gw.get(f"/v1/records/all/customers/sugarcrm:{sugar_id}",
                             params={"orgId": ORG}, headers=_auth(SUGAR_ONLY)), 403)


async def test_partial_allow_prunes_the_member_without_calls(make_gateway: Any,
                                                             members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members, _view("allow"))
    slingr = members["slingr"].emulator
    before = len(slingr.log)
    got = await _json(await gw.post("/v1/records/all/customers/query", params={"orgId": ORG},
                                    headers=_auth(NO_SLINGR_PARTIAL), json={"pageSize": 1000}))
    assert got["data"] and {r["source"] for r in got["data"]} == {"sugarcrm"}
    assert got["pagination"]["totalSize"] == len(members["sugarcrm"].records())
    slingr_id = members["slingr"].records()[0]["id"]
    await _json(await gw.get(f"/v1/records/all/customers/slingr:{slingr_id}",
                             params={"orgId": ORG}, headers=_auth(NO_SLINGR_PARTIAL)), 404)
    assert len(slingr.log) == before
    # The consumer that may read every member still gets both.
    both = await _json(await gw.post("/v1/records/all/customers/query", params={"orgId": ORG},
                                     headers=_auth(), json={"pageSize": 1000}))
    assert {r["source"] for r in both["data"]} == set(MEMBERS)


async def test_writes_and_export_give_the_documented_errors(make_gateway: Any,
                                                            members: dict[str, Harness]):
    gw = await _gateway(make_gateway, members)
    base, q = "/v1/records/all/customers", {"orgId": ORG}
    sugar_id = members["sugarcrm"].records()[0]["id"]
    one = f"{base}/sugarcrm:{sugar_id}"
    created = await _json(await gw.post(base, params=q, headers=_auth(), json={"name": "x"}), 405)
    assert created["error"] == "method_not_allowed"
    for method in ("patch", "put"):
        body = await _json(await getattr(gw, method)(one, params=q, headers=_auth(),
                                                     json={"name": "x"}), 422)
        assert body["error"] == "unsupported" and "not available" in body["msg"]
    body = await _json(await gw.delete(one, params=q, headers=_auth()), 422)
    assert body["error"] == "unsupported"
    body = await _json(await gw.get(f"{base}/export", params=q, headers=_auth()), 422)
    assert body["error"] == "unsupported"
    bulk = await _json(await gw.post("/v1/bulk", params=q, headers=_auth(), json={"requests": [
        {"url": one, "method": "PATCH", "data": {"name": "x"}},
        {"url": base, "method": "POST", "data": {"name": "x"}},
        {"url": one, "method": "GET"}]}))
    assert [e["status"] for e in bulk] == [422, 405, 200]
    gw_in = await _gateway(make_gateway, members, _view(createIn="sugarcrm"))
    body = await _json(await gw_in.post(base, params=q, headers=_auth(), json={"name": "x"}), 422)
    assert body["error"] == "unsupported"


async def test_bad_view_config_names_the_key(make_gateway: Any, members: dict[str, Harness]):
    view = _view()
    view["entities"]["customers"]["from"][1]["map"]["city"] = "noSuchField"
    with pytest.raises(ConfigError) as caught:
        await _gateway(make_gateway, members, view)
    assert "sources.all.entities.customers.from[1].map.city" in str(caught.value)
    assert "noSuchField" in str(caught.value)
    view = _view()
    view["entities"]["customers"]["from"][0]["source"] = "nowhere"
    with pytest.raises(ConfigError) as caught:
        await _gateway(make_gateway, members, view)
    assert "sources.all.entities.customers.from[0].source" in str(caught.value)


async def test_a_member_down_at_startup_is_a_503_on_the_view_until_it_answers(
    make_gateway: Any, members: dict[str, Harness]
) -> None:
    """A member backend that cannot be reached when the gateway starts does not stop it: the
    other sources answer, the view answers 503 with Retry-After, and once the member answers
    it is described and the view answers as it would have."""
    sugar = members["sugarcrm"].emulator
    sugar.faults.maintenance(True)
    gw = await _gateway(make_gateway, members)
    direct = await gw.post("/v1/records/slingr/companies/query", params={"orgId": ORG},
                           headers=_auth(), json={"pageSize": 1})
    assert direct.status == 200
    body = {"pageSize": 5, "orderBy": [{"field": "name"}]}
    pending = await gw.post("/v1/records/all/customers/query", params={"orgId": ORG},
                            headers=_auth(), json=body)
    got = await pending.json()
    assert pending.status == 503 and "Retry-After" in pending.headers, got
    assert got["error"] == "backend_unavailable" and "sugarcrm/Accounts" in got["msg"]
    sugar.faults.maintenance(False)
    for _ in range(200):  # the member is described in the background: poll, bounded
        resp = await gw.post("/v1/records/all/customers/query", params={"orgId": ORG},
                             headers=_auth(), json=body)
        if resp.status == 200:
            break
        await asyncio.sleep(0.05)
    answer = await _json(resp)

    async def total(source: str, entity: str) -> int:
        got = await _json(await gw.post(f"/v1/records/{source}/{entity}/query",
                                        params={"orgId": ORG}, headers=_auth(),
                                        json={"pageSize": 1}))
        return int(got["pagination"]["totalSize"])

    both = await total("sugarcrm", "Accounts") + await total("slingr", "companies")
    assert answer["pagination"]["totalSize"] == both and len(answer["data"]) == 5


@pytest.mark.parametrize("member_id", ["sugarcrm:..", "sugarcrm:%2e%2e", "sugarcrm:filter",
                                       "sugarcrm:a%2Fb", "slingr:auditLogs", "slingr:.."])
async def test_a_view_id_reaches_only_the_member_record_it_names(
    make_gateway: Any, members: dict[str, Harness], member_id: str
) -> None:
    """The member part of a view id meets the member's own id shape before any call: a dot
    step, a word the backend routes beside ids or an encoded slash is a 400 on ``id`` and no
    record URL of the member is called."""
    gw = await _gateway(make_gateway, members)
    source = member_id.split(":", 1)[0]
    log = members[source].emulator.log
    before = len(log)
    resp = await gw.get(f"/v1/records/all/customers/{member_id}", params={"orgId": ORG},
                        headers=_auth())
    body = await resp.json()
    assert resp.status == 400 and body["details"][0]["path"] == "id", body
    assert not [c for c in log[before:] if "oauth2" not in c.path and "login" not in c.path
                and "metadata" not in c.path], [c.path for c in log[before:]]
