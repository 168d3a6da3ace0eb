"""Related records honour entity scopes: what a consumer may not read is cut to its id.

Real HTTP over loopback against each emulator: the Data Service expands a relationship into
the whole related record (Athletes.Games → an Olympics record), Slingr embeds the related
record's label (contacts.company), Sugar copies a related field (Contacts.account_name). A
consumer scoped to the first entity only sees the id of the related one, on every path that
returns records: query, get, create and update answers, and the same inside /v1/bulk.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.contract.backends import HARNESSES, Harness

ORG = "acme"
NARROW, WIDE = "narrow-key-0001", "wide-key-0002"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _gateway(make_gateway: Any, h: Harness, entity: str, related: str,
                   **source_kw: Any) -> TestClient:
    """``narrow`` may use ``entity`` only; ``wide`` may use it and the related entity."""
    return await make_gateway(  # type: ignore[no-any-return]
        {h.type: h.source(**source_kw)},
        consumers=[
            {"name": "narrow", "apiKey": NARROW, "orgs": [ORG],
             "scopes": {"entities": [f"{h.type}/{entity}"]}},
            {"name": "wide", "apiKey": WIDE, "orgs": [ORG],
             "scopes": {"entities": [f"{h.type}/{entity}", f"{h.type}/{related}"]}},
        ],
    )


async def _json(resp: Any, status: int = 200) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


# --- Data Service: Athletes.Games expands into the whole Olympics record --------------------


@pytest.fixture
async def ds(aiohttp_server: Any) -> Harness:
    h = HARNESSES["dataservice"]()
    await h.start(aiohttp_server)
    return h


def _ds_linked(ds: Harness) -> dict[str, Any]:
    """An athlete with games (as the emulator stores it: ``Games`` is the Olympics Id)."""
    return next(r for r in ds.records() if r.get("Games"))


async def test_dataservice_query_get_and_bulk_cut_games_to_ids(ds: Harness, make_gateway: Any):
    gw = await _gateway(make_gateway, ds, "Athletes", "Olympics", expansionLevel=1)
    athlete = _ds_linked(ds)
    games_id = athlete["Games"]
    url = f"/v1/records/dataservice/Athletes/{athlete['id']}"
    flt = {"filter": [[{"field": "id", "operator": "==", "value": athlete["id"]}]]}

    got = (await _json(await gw.get(url, params={"orgId": ORG}, headers=_auth(NARROW))))["data"]
    assert got["Games"] == {"Id": games_id}
    assert got["Name"] == athlete["Name"]  # the athlete itself is whole
    queried = await _json(await gw.post("/v1/records/dataservice/Athletes/query",
                                        params={"orgId": ORG}, json=flt,
                                        headers=_auth(NARROW)))
    assert [r["Games"] for r in queried["data"]] == [{"Id": games_id}]
    listed = await _json(await gw.get("/v1/records/dataservice/Athletes",
                                      params={"orgId": ORG, "pageSize": "50"},
                                      headers=_auth(NARROW)))
    games = [r["Games"] for r in listed["data"] if r.get("Games") is not None]
    assert games and all(set(g) == {"Id"} for g in games)

    bulk = await _json(await gw.post("/v1/bulk", params={"orgId": ORG}, headers=_auth(NARROW),
                                     json={"requests": [
                                         {"url": url, "method": "GET"},
                                         {"url": "/v1/records/dataservice/Athletes/query",
                                          "method": "POST", "data": flt}]}))
    one, query = (e["contents"]["data"] for e in bulk)
    assert one["Games"] == {"Id": games_id}
    assert [r["Games"] for r in query] == [{"Id": games_id}]


async def test_dataservice_writes_answer_with_games_cut(ds: Harness, make_gateway: Any):
    gw = await _gateway(make_gateway, ds, "Athletes", "Olympics", expansionLevel=1)
    games_id = _ds_linked(ds)["Games"]
    created = (await _json(await gw.post(
        "/v1/records/dataservice/Athletes", params={"orgId": ORG}, headers=_auth(NARROW),
        json={"Name": "Scoped Athlete", "Games": games_id}), 201))["data"]
    assert created["Games"] == {"Id": games_id}
    url = f"/v1/records/dataservice/Athletes/{created['id']}"
    updated = (await _json(await gw.patch(url, params={"orgId": ORG}, headers=_auth(NARROW),
                                          json={"Age": 31})))["data"]
    assert updated["Games"] == {"Id": games_id} and updated["Age"] == 31
    bulk = await _json(await gw.post("/v1/bulk", params={"orgId": ORG}, headers=_auth(NARROW),
                                     json={"requests": [
                                         {"url": url, "method": "PATCH", "data": {"Age": 32}},
                                         {"url": "/v1/records/dataservice/Athletes",
                                          "method": "POST",
                                          "data": {"Name": "Bulk Athlete", "Games": games_id}},
                                     ]}))
    assert [e["contents"]["data"]["Games"] for e in bulk] == [{"Id": games_id}] * 2


async def test_dataservice_both_scopes_get_the_full_expansion(ds: Harness, make_gateway: Any):
    gw = await _gateway(make_gateway, ds, "Athletes", "Olympics", expansionLevel=1)
    athlete = _ds_linked(ds)
    olympics = next(r for r in ds.emulator.store.all("Olympics")
                    if r["Id"] == athlete["Games"])
    got = (await _json(await gw.get(f"/v1/records/dataservice/Athletes/{athlete['id']}",
                                    params={"orgId": ORG}, headers=_auth(WIDE))))["data"]
    assert got["Games"]["Id"] == olympics["Id"]
    assert got["Games"]["Name"] == olympics["Name"]  # the whole related record


async def test_dataservice_unexpanded_games_stay_bare_ids(ds: Harness, make_gateway: Any):
    gw = await _gateway(make_gateway, ds, "Athletes", "Olympics", expansionLevel=0)
    athlete = _ds_linked(ds)
    got = (await _json(await gw.get(f"/v1/records/dataservice/Athletes/{athlete['id']}",
                                    params={"orgId": ORG}, headers=_auth(NARROW))))["data"]
    assert got["Games"] == athlete["Games"]


# --- Slingr: contacts.company embeds the company's label -------------------------------------


async def test_slingr_company_label_is_cut_for_a_contacts_only_consumer(
    aiohttp_server: Any, make_gateway: Any
):
    h = HARNESSES["slingr"]()
    await h.start(aiohttp_server)
    gw = await _gateway(make_gateway, h, "contacts", "companies")
    contact = next(r for r in h.emulator.store.all("contacts") if r.get("company"))
    url = f"/v1/records/slingr/contacts/{contact['id']}"
    got = (await _json(await gw.get(url, params={"orgId": ORG}, headers=_auth(NARROW))))["data"]
    assert got["company"] == {"id": contact["company"]["id"]}
    listed = await _json(await gw.get("/v1/records/slingr/contacts",
                                      params={"orgId": ORG, "pageSize": "20"},
                                      headers=_auth(NARROW)))
    companies = [r["company"] for r in listed["data"] if r.get("company")]
    assert companies and all(set(c) == {"id"} for c in companies)
    # Slingr does not say which entity a relationship points at: naming both entities is not
    # enough, a consumer must be allowed every entity of the source to read the label.
    wide = (await _json(await gw.get(url, params={"orgId": ORG}, headers=_auth(WIDE))))["data"]
    assert wide["company"] == {"id": contact["company"]["id"]}
    everything = await make_gateway({"slingr": h.source()}, consumers=[
        {"name": "all", "apiKey": WIDE, "orgs": [ORG], "scopes": {"entities": ["slingr/*"]}}])
    full = (await _json(await everything.get(url, params={"orgId": ORG},
                                             headers=_auth(WIDE))))["data"]
    assert full["company"] == contact["company"]


# --- Sugar: Contacts.account_name copies the account's name ----------------------------------


async def test_sugar_relate_copy_is_hidden_from_a_contacts_only_consumer(
    aiohttp_server: Any, make_gateway: Any
):
    h = HARNESSES["sugarcrm"]()
    await h.start(aiohttp_server)
    gw = await _gateway(make_gateway, h, "Contacts", "Accounts")
    contact = next(r for r in h.emulator.store.all("Contacts") if r.get("account_id"))
    url = f"/v1/records/sugarcrm/Contacts/{contact['id']}"
    narrow = (await _json(await gw.get(url, params={"orgId": ORG},
                                       headers=_auth(NARROW))))["data"]
    assert narrow["account_name"] is None and narrow["account_id"] == contact["account_id"]
    wide = (await _json(await gw.get(url, params={"orgId": ORG}, headers=_auth(WIDE))))["data"]
    assert wide["account_name"] and wide["account_id"] == contact["account_id"]


async def test_filtering_or_sorting_on_a_cut_relation_is_refused(
    aiohttp_server: Any, make_gateway: Any
):
    """Reading a hidden label back one comparison at a time is refused; ids and null checks
    on the relation stay allowed."""
    h = HARNESSES["slingr"]()
    await h.start(aiohttp_server)
    gw = await _gateway(make_gateway, h, "contacts", "companies")
    contact = next(r for r in h.emulator.store.all("contacts") if r.get("company"))
    url = "/v1/records/slingr/contacts/query"
    before = len(h.emulator.log)
    for body, path in (
        ({"filter": [[{"field": "company.label", "operator": "startsWith", "value": "A"}]]},
         "filter[0][0].field"),
        ({"filter": [[{"field": "company", "operator": "contains", "value": "Acme"}]]},
         "filter[0][0].field"),
    ):
        got = await _json(await gw.post(url, params={"orgId": ORG}, json=body,
                                        headers=_auth(NARROW)), 403)
        assert got["error"] == "forbidden" and got["details"][0]["path"] == path, got
    assert not [c for c in h.emulator.log[before:] if "/data/contacts" in c.path]
    by_id = {"filter": [[{"field": "company.id", "operator": "==",
                          "value": contact["company"]["id"]}],
                        [{"field": "company", "operator": "isNull"}]], "pageSize": 5}
    assert (await _json(await gw.post(url, params={"orgId": ORG}, json=by_id,
                                      headers=_auth(NARROW))))["data"]
