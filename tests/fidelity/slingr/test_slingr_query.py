"""Slingr query language on GET /data/{entity}: operators per type, _query, sort, paging."""

from __future__ import annotations

import pytest

from connectors.slingr.emulator import SlingrEmulator

COMPANIES = [
    # name, type, employees, isCustomer, rating, lastMeeting, email, states, tags
    ("Acme", "a", 10, True, "2.5", 1000, "info@acme.com", ["CA"], ["vip"]),
    ("acme", "b", 20, False, "3.0", 2000, None, ["CO", "NJ"], []),
    ("ACME, Inc", "a", 30, True, None, 3000, "hi@acme-inc.com", [], ["vip", "new"]),
    ("Blogpad", "c", None, False, "4.5", None, "x@blogpad.com", ["NV"], []),
    ("Zeta", None, 30, True, "1.0", 5000, "z@zeta.org", ["CA"], ["partner"]),
]


@pytest.fixture
def slingr() -> SlingrEmulator:
    emu = SlingrEmulator(users={"admin@example.com": "admin"}, companies=0, contacts=0)
    emu.clock = lambda: 1600000000000
    for name, typ, emp, cust, rating, met, email, states, tags in COMPANIES:
        emu.store.insert("companies", {
            "name": name, "type": typ, "numberOfEmployees": emp, "isCustomer": cust,
            "rating": rating, "lastMeeting": met, "state": "active",
            "contactInformation": {"email": email},
            "addresses": [{"state": s, "zipCode": "1"} for s in states], "tags": tags})
    acme = emu.store.all("companies")[0]
    emu.store.insert("contacts", {"firstName": "Ann", "lastName": "Lee", "birthDate": "1990-05-01",
                                  "company": {"id": acme["id"], "label": "Acme"}})
    emu.store.insert("contacts", {"firstName": "Bob", "lastName": "Kim",
                                  "birthDate": "1980-01-31"})
    return emu


async def names(api, query: str, entity: str = "companies") -> list[str]:
    status, body = await api("GET", f"/data/{entity}?{query}&_size=1000")
    assert status == 200, body
    return sorted(r["label"] for r in body["items"])


async def bad(api, query: str) -> str:
    status, body = await api("GET", f"/data/companies?{query}")
    assert status == 400 and body["code"] == "badRequest", body
    return str(body["message"])


@pytest.mark.parametrize("query, expected", [
    ("name=Acme", ["Acme"]),  # equality is case-sensitive (inferred, MongoDB default)
    ("name=Acme,Zeta", ["Acme", "Zeta"]),
    ('name="ACME, Inc"', ["ACME, Inc"]),
    ('name="ACME, Inc",Blogpad', ["ACME, Inc", "Blogpad"]),
    ("name=equals(acme)", ["acme"]),
    ("name=notEquals(Acme)", ["ACME, Inc", "Blogpad", "Zeta", "acme"]),
    ("name=like(cm)", ["Acme", "acme"]),
    ("name=like(/A)", ["ACME, Inc", "Acme"]),
    ("name=like(e/)", ["Acme", "acme"]),
    ("name=like(/^[AB].*[cd]$/)", ["ACME, Inc", "Blogpad"]),
    ("type=a", ["ACME, Inc", "Acme"]),
    ("type=empty()", ["Zeta"]),
    ("type=notEmpty()", ["ACME, Inc", "Acme", "Blogpad", "acme"]),
    ("type=notEquals(a)", ["Blogpad", "Zeta", "acme"]),  # empty values match notEquals
    ("numberOfEmployees=greater(20)", ["ACME, Inc", "Zeta"]),
    ("numberOfEmployees=greaterOrEquals(20)", ["ACME, Inc", "Zeta", "acme"]),
    ("numberOfEmployees=less(20)", ["Acme"]),
    ("numberOfEmployees=lessOrEquals(20)", ["Acme", "acme"]),
    ("numberOfEmployees=between(10,20)", ["Acme", "acme"]),  # both ends inclusive
    ("numberOfEmployees=30", ["ACME, Inc", "Zeta"]),
    ("numberOfEmployees=empty()", ["Blogpad"]),
    ("rating=greater(2.9)", ["Blogpad", "acme"]),  # decimals compare as numbers
    ("rating=3", ["acme"]),
    ("lastMeeting=between(2000,5000)", ["ACME, Inc", "Zeta", "acme"]),
    ("lastMeeting=less(2500)", ["Acme", "acme"]),
    ("isCustomer=true", ["ACME, Inc", "Acme", "Zeta"]),
    ("isCustomer=false&type=b", ["acme"]),
    ("contactInformation.email=x@blogpad.com", ["Blogpad"]),
    ("contactInformation.email=like(acme)", ["ACME, Inc", "Acme"]),
    ("contactInformation.email=empty()", ["acme"]),
    ("addresses.state=CA", ["Acme", "Zeta"]),
    ("addresses.state=NJ,NV", ["Blogpad", "acme"]),
    ("addresses.state=notEquals(CA)", ["ACME, Inc", "Blogpad", "acme"]),
    ("addresses=empty()", ["ACME, Inc"]),
    ("tags=vip", ["ACME, Inc", "Acme"]),
    ("tags=notEmpty()", ["ACME, Inc", "Acme", "Zeta"]),
    ("label=like(/Z)", ["Zeta"]),
])
async def test_filters(api, query, expected):
    assert await names(api, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("company=Acme", ["Ann Lee"]),  # relationships match by label by default
    ("company.label=Acme", ["Ann Lee"]),
    ("company=like(cm)", ["Ann Lee"]),
    ("company=empty()", ["Bob Kim"]),
    ("birthDate=greater(1985-01-01)", ["Ann Lee"]),
    ("birthDate=between(1980-01-31,1980-01-31)", ["Bob Kim"]),
])
async def test_contact_filters(api, query, expected):
    assert await names(api, query, "contacts") == expected


async def test_relationship_by_id(api, slingr):
    acme = slingr.store.all("companies")[0]["id"]
    assert await names(api, f"company.id={acme}", "contacts") == ["Ann Lee"]
    assert await names(api, f"company={acme}", "contacts") == ["Ann Lee"]


@pytest.mark.parametrize("query, expected", [
    ("_query=or(filter('type','a'),and(filter('type','b'),filter('isCustomer','false')))",
     ["ACME, Inc", "Acme", "acme"]),
    ("_query=and(filter('isCustomer','true'),or(filter('addresses.state','CA'),"
     "filter('numberOfEmployees','greater(25)')))", ["ACME, Inc", "Acme", "Zeta"]),
    ("_query=or(filter('isCustomer','false'),filter('numberOfEmployees','greater(25)'),"
     "filter('addresses.state','CA,CO,NJ'))", ["ACME, Inc", "Acme", "Blogpad", "Zeta", "acme"]),
    ("_query=or(filter('name','like(cm)'),filter('name','equals(Zeta)'))",
     ["Acme", "Zeta", "acme"]),
    ("_query=filter('name','\"ACME, Inc\"')", ["ACME, Inc"]),
    ("_query= or( filter('type', 'a') , filter('type','c') )", ["ACME, Inc", "Acme", "Blogpad"]),
    ("isCustomer=true&_query=or(filter('type','a'),filter('type','b'))", ["ACME, Inc", "Acme"]),
])
async def test_complex_queries(api, query, expected):
    assert await names(api, query) == expected


@pytest.mark.parametrize("query, fragment", [
    ("isCustomer=empty()", "empty"),  # booleans have no empty() [SD-TYPES]
    ("isCustomer=greater(true)", "greater"),
    ("numberOfEmployees=like(1)", "like"),
    ("type=greater(a)", "greater"),
    ("type=zz", "zz"),  # not a choice of the field
    ("numberOfEmployees=abc", "abc"),
    ("lastMeeting=2020-01-01", "2020-01-01"),  # date-times are epoch ms
    ("nope=1", "nope"),
    ("contactInformation.nope=1", "contactInformation.nope"),
    ("numberOfEmployees=between(1)", "between"),
    ("name=near(1,2)", "near"),
    ("name=a&name=b", "more than once"),
    ("_query=or(filter('type','a')", "Invalid query"),
    ("_query=filter(type,a)", "Invalid query"),
    ("_query=xor(filter('type','a'))", "Invalid query"),
    ("_sortField=name,type", "more than one"),
    ("_sortField=addresses.state", "addresses.state"),
    ("_sortField=tags", "tags"),
    ("_sortField=contactInformation", "contactInformation"),
    ("_sortType=up", "up"),
    ("_size=0", "size"),
    ("_size=ten", "size"),
    ("_offset=zz", "offset"),
    ("_sortField=name&_offset=57fd2d65e4b0ce322b0c8665", "sorting by id"),
    ("_fields=nope", "nope"),
    ("_format=xml", "format"),
])
async def test_bad_queries(api, query, fragment):
    assert fragment in await bad(api, query)


async def test_unknown_entity_is_not_found(api):
    status, body = await api("GET", "/data/nope")
    assert (status, body["code"]) == (404, "notFound")


async def page(api, query: str) -> dict:  # type: ignore[type-arg]
    status, body = await api("GET", f"/data/companies?{query}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_default_order_is_id_desc_and_size_default_20(api, slingr):
    for i in range(30):
        slingr.store.insert("companies", {"name": f"N{i}"})
    body = await page(api, "")
    ids = [r["id"] for r in body["items"]]
    assert len(ids) == 20 and ids == sorted(ids, reverse=True) and body["total"] == 35
    assert body["offset"] == ids[-1]


async def test_id_offset_walk_and_numeric_offsets(api, slingr):
    all_ids = sorted((r["id"] for r in slingr.store.all("companies")), reverse=True)
    first = await page(api, "_size=2")
    second = await page(api, f"_size=2&_offset={first['offset']}")
    third = await page(api, f"_size=2&_offset={second['offset']}")
    walked = [r["id"] for p in (first, second, third) for r in p["items"]]
    assert walked == all_ids and len(third["items"]) == 1  # fewer than _size at the end
    assert {p["total"] for p in (first, second, third)} == {5}  # total ignores paging
    numeric = await page(api, "_size=2&_offset=2")
    assert [r["id"] for r in numeric["items"]] == all_ids[2:4]
    past = await page(api, "_size=2&_offset=50")
    assert past["items"] == [] and past["total"] == 5 and past["offset"] is None
    asc = await page(api, f"_sortField=id&_sortType=asc&_size=2&_offset={all_ids[2]}")
    assert [r["id"] for r in asc["items"]] == all_ids[1::-1]


async def test_size_above_1000_is_clamped(api, slingr):
    slingr.clock = lambda: 1500000000000
    for i in range(1200):
        slingr.store.insert("companies", {"name": f"B{i}"})
    body = await page(api, "_size=5000")
    assert len(body["items"]) == 1000 and body["total"] == 1205


async def test_sort_by_field_nulls_and_ties(api):
    asc = await page(api, "_sortField=numberOfEmployees&_sortType=asc&_fields=name")
    labels = [r["label"] for r in asc["items"]]
    assert labels[0] == "Blogpad"  # empty first ascending
    assert labels[1:3] == ["Acme", "acme"]
    ties = [r for r in asc["items"] if r["label"] in ("ACME, Inc", "Zeta")]
    assert [r["id"] for r in ties] == sorted(r["id"] for r in ties)  # ties by id, same direction
    desc = await page(api, "_sortField=numberOfEmployees&_sortType=desc")
    assert [r["label"] for r in desc["items"]][-1] == "Blogpad"  # empty last descending
    assert desc["offset"] == "5"  # not an id when the sort is not by id
    second = await page(api, "_sortField=numberOfEmployees&_size=2&_offset=2")
    assert second["offset"] == "4"


async def test_text_sort_is_case_sensitive_and_nested_sort(api):
    body = await page(api, "_sortField=name")
    assert [r["name"] for r in body["items"]] == ["ACME, Inc", "Acme", "Blogpad", "Zeta", "acme"]
    body = await page(api, "_sortField=contactInformation.email&_sortType=desc")
    assert body["items"][0]["label"] == "Zeta" and body["items"][-1]["label"] == "acme"


async def test_fields_projection_keeps_system_fields(api):
    body = await page(api, "name=Acme&_fields=name,addresses.state,contactInformation")
    (rec,) = body["items"]
    assert set(rec) == {"id", "version", "label", "name", "addresses", "contactInformation"}
    assert set(rec["addresses"][0]) == {"state", "id", "label"}
    assert set(rec["contactInformation"]) == {"email", "id", "label"}


async def test_plain_text_format_and_relationships_to_fetch(api, slingr):
    body = await page(api, "name=Acme&_format=plainText")
    rec = body["items"][0]
    assert (rec["isCustomer"], rec["numberOfEmployees"], rec["state"]) == ("Yes", "10", "Active")
    assert rec["lastMeeting"] == "1970-01-01 00:00"
    _, contacts = await api("GET", "/data/contacts?lastName=Lee&_relationshipsToFetch=company")
    assert contacts["items"][0]["company"]["name"] == "Acme"
    assert contacts["items"][0]["company"]["version"] == 0
