"""Sugar emulator: filter operators with MySQL/NULL semantics, quirks, paging, fields, order_by."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from connectors.sugarcrm.emulator import SugarEmulator

ROWS = [
    # name, industry, employees, headcount_c, date_modified
    ("A1", "Acme Corp", "Energy", "10", 10, "2024-01-01T00:00:00+00:00"),
    ("A2", "acme corp", None, "", 250, "2024-01-02T00:00:00+00:00"),
    ("A3", "100% Organic", "", None, None, "2024-01-03T23:59:59+00:00"),
    ("A4", "Under_score Ltd", "Banking", "1000+", 5, "2024-01-04T00:00:00+00:00"),
    ("A5", "UnderXscore Ltd", "energy", "5", 1000, "2024-01-04T00:00:00+00:00"),
    ("A6", "Éclair", "Retail", None, None, "2024-01-05T12:00:00+00:00"),
]


@pytest.fixture
def sugar() -> SugarEmulator:
    emu = SugarEmulator(accounts=0, contacts=0)
    for rid, name, industry, employees, headcount, modified in ROWS:
        emu.store.insert("Accounts", {"id": rid, "name": name, "industry": industry,
                                      "employees": employees, "headcount_c": headcount,
                                      "date_entered": modified, "date_modified": modified})
    return emu


async def ids(api, filt, **params):
    status, body = await api("POST", "/Accounts/filter",
                             json={"filter": filt, "max_num": -1, **params})
    assert status == 200, body
    return sorted(r["id"] for r in body["records"])


async def test_equals_is_case_insensitive_and_scalar_means_equals(api):
    assert await ids(api, [{"name": "ACME CORP"}]) == ["A1", "A2"]
    assert await ids(api, [{"industry": {"$equals": "energy"}}]) == ["A1", "A5"]


async def test_not_equals_drops_nulls(api):
    assert await ids(api, [{"industry": {"$not_equals": "Energy"}}]) == ["A3", "A4", "A6"]


async def test_like_operators_wildcards_unescaped_and_array_or(api):
    assert await ids(api, [{"name": {"$starts": "acme"}}]) == ["A1", "A2"]
    assert await ids(api, [{"name": {"$starts": "Under_"}}]) == ["A4", "A5"]  # _ is a wildcard
    assert await ids(api, [{"name": {"$contains": "%"}}]) == sorted(r[0] for r in ROWS)
    assert await ids(api, [{"name": {"$ends": "LTD"}}]) == ["A4", "A5"]
    assert await ids(api, [{"name": {"$starts": ["100", "écl"]}}]) == ["A3", "A6"]


async def test_not_contains_keeps_nulls(api):
    assert await ids(api, [{"industry": {"$not_contains": "erg"}}]) == ["A2", "A3", "A4", "A6"]


async def test_in_and_not_in_null_rules(api):
    assert await ids(api, [{"industry": {"$in": ["Banking", "Retail"]}}]) == ["A4", "A6"]
    assert await ids(api, [{"industry": {"$in": ["Banking", ""]}}]) == ["A2", "A4"]
    assert await ids(api, [{"industry": {"$not_in": ["Banking"]}}]) == [
        "A1", "A2", "A3", "A5", "A6"]
    assert await ids(api, [{"industry": {"$not_in": ["Banking", ""]}}]) == [
        "A1", "A3", "A5", "A6"]
    status, body = await api("POST", "/Accounts/filter",
                             json={"filter": [{"industry": {"$in": "Banking"}}]})
    assert (status, body) == (422, {"error": "invalid_parameter",
                                    "error_message": "$in requires an array"})


async def test_null_and_empty_operators(api):
    assert await ids(api, [{"industry": {"$is_null": ""}}]) == ["A2"]
    assert await ids(api, [{"industry": {"$not_null": ""}}]) == ["A1", "A3", "A4", "A5", "A6"]
    assert await ids(api, [{"employees": {"$empty": ""}}]) == ["A2", "A3", "A6"]
    assert await ids(api, [{"employees": {"$not_empty": ""}}]) == ["A1", "A4", "A5"]


async def test_numeric_comparisons_and_between(api):
    assert await ids(api, [{"headcount_c": {"$gte": "250"}}]) == ["A2", "A5"]
    assert await ids(api, [{"headcount_c": {"$gt": 5, "$lt": 1000}}]) == ["A1", "A2"]
    assert await ids(api, [{"headcount_c": {"$between": [5, 10]}}]) == ["A1", "A4"]
    status, body = await api("POST", "/Accounts/filter",
                             json={"filter": [{"headcount_c": {"$between": [5]}}]})
    assert status == 422
    assert body["error_message"] == "$between requires an array with two values."


async def test_varchar_compares_as_text_not_number(api):
    # employees is varchar, as in real Sugar: '5' > '1000+' as strings
    assert await ids(api, [{"employees": {"$gt": "2"}}]) == ["A5"]


async def test_date_only_values_on_datetime_fields(api):
    assert await ids(api, [{"date_modified": "2024-01-03"}]) == ["A3"]
    assert await ids(api, [{"date_modified": {"$gte": "2024-01-04"}}]) == ["A4", "A5", "A6"]
    # $gt d means > (d+1) 00:00:00, so a row at exactly that second is missed, as in Sugar
    assert await ids(api, [{"date_modified": {"$gt": "2024-01-03"}}]) == ["A6"]
    assert await ids(api, [{"date_modified": {"$lte": "2024-01-03"}}]) == ["A1", "A2", "A3"]
    assert await ids(api, [{"date_modified": {"$dateBetween": ["2024-01-02", "2024-01-03"]}}]) \
        == ["A2", "A3"]


async def test_date_range(api, sugar):
    today = date.today()
    sugar.store.insert("Accounts", {"id": "NOW", "name": "Fresh",
                                    "date_modified": f"{today}T10:00:00+00:00"})
    sugar.store.insert("Accounts", {"id": "OLD", "name": "Week",
                                    "date_modified": f"{today - timedelta(days=6)}T00:00:00Z"})
    assert await ids(api, [{"date_modified": {"$dateRange": "today"}}]) == ["NOW"]
    assert await ids(api, [{"date_modified": {"$dateRange": "last_7_days"}}]) == ["NOW", "OLD"]
    assert await ids(api, [{"date_modified": {"$dateRange": "next_year"}}]) == []


async def test_or_flattening_quirk_and_and_wrapping(api):
    quirk = [{"$or": [{"name": "Acme Corp", "industry": "Banking"}]}]
    assert await ids(api, quirk) == ["A1", "A2", "A4"]
    wrapped = [{"$or": [{"$and": [{"name": "Acme Corp", "industry": "Energy"}]},
                        {"industry": "Retail"}]}]
    assert await ids(api, wrapped) == ["A1", "A6"]


async def test_unknown_operand_field_and_array_without_operator(api):
    for filt, message in [
        ([{"name": {"$like": "x"}}], "Did not recognize the operand: $like"),
        ([{"nope": "x"}], "Unknown field nope"),
        ([{"name": ["a", "b"]}], "Did not recognize the operand: 0"),
        (["name"], "Did not recognize the definition: name"),
    ]:
        status, body = await api("POST", "/Accounts/filter", json={"filter": filt})
        assert (status, body) == (422, {"error": "invalid_parameter", "error_message": message})
    status, body = await api("POST", "/Accounts/filter", json={"filter": "[]"})
    assert body["error_message"] == "Unexpected filter type string."


async def test_three_filter_encodings_agree(api):
    filt = [{"$or": [{"industry": "Banking"}, {"industry": "Retail"}]}]
    _, body = await api("POST", "/Accounts/filter", json={"filter": filt})
    json_body = sorted(r["id"] for r in body["records"])
    _, body = await api("GET", "/Accounts/filter", params={"filter": json.dumps(filt)})
    assert sorted(r["id"] for r in body["records"]) == json_body
    query = "filter[0][$or][][industry]=Banking&filter[0][$or][][industry]=Retail"
    _, body = await api("GET", f"/Accounts?{query}")
    assert sorted(r["id"] for r in body["records"]) == json_body == ["A4", "A6"]
    _, body = await api("GET", "/Accounts/count?filter[0][headcount_c][$in][]=5&"
                               "filter[0][headcount_c][$in][]=10")
    assert body == {"record_count": 2}


async def test_paging_next_offset(api):
    _, body = await api("GET", "/Accounts", params={"max_num": "4"})
    assert body["next_offset"] == 4 and len(body["records"]) == 4
    _, body = await api("GET", "/Accounts", params={"max_num": "4", "offset": "4"})
    assert body["next_offset"] == -1 and len(body["records"]) == 2
    _, body = await api("GET", "/Accounts", params={"max_num": "2", "offset": "4"})
    assert body["next_offset"] == -1  # exactly at the end: no extra row, so -1
    _, body = await api("GET", "/Accounts", params={"offset": "40"})
    assert body == {"next_offset": -1, "records": []}


async def test_max_num_default_negative_and_clamp(aiohttp_client):
    from tests.fidelity.conftest import API, login

    emu = SugarEmulator(accounts=45, contacts=0)
    client = await aiohttp_client(emu.app)
    headers = {"OAuth-Token": (await login(client))["access_token"]}

    async def page(**params):
        return await (await client.get(f"{API}/Accounts", params=params, headers=headers)).json()

    assert len((await page())["records"]) == 20
    everything = await page(max_num="-1")
    assert len(everything["records"]) == 45 and everything["next_offset"] == -1
    emu.max_list_limit = 10
    assert len((await page(max_num="-1"))["records"]) == 10
    assert len((await page(max_num="500"))["records"]) == 10


async def test_default_order_and_id_tiebreak(api):
    _, body = await api("GET", "/Accounts", params={"fields": "name"})
    assert [r["id"] for r in body["records"]] == ["A6", "A5", "A4", "A3", "A2", "A1"]
    _, body = await api("GET", "/Accounts", params={"order_by": "headcount_c:asc,name"})
    assert [r["id"] for r in body["records"]][:2] == ["A3", "A6"]  # NULLs first, then by name
    _, body = await api("GET", "/Accounts", params={"order_by": "headcount_c:DESC"})
    assert [r["id"] for r in body["records"]][-2:] == ["A6", "A3"]  # NULLs last, id desc
    status, body = await api("GET", "/Accounts", params={"order_by": "bogus:asc"})
    message = "Non existing field: bogus in module: Accounts"
    assert (status, body) == (422, {"error": "invalid_parameter", "error_message": message})


async def test_fields_selection(api):
    _, body = await api("GET", "/Accounts", params={"fields": "name,nonsense", "max_num": 1})
    record = body["records"][0]
    assert set(record) == {"name", "id", "date_modified", "locked_fields", "_acl", "_module"}
    _, body = await api("POST", "/Accounts/filter", json={"fields": ["industry"], "max_num": 1})
    assert "industry" in body["records"][0] and "my_favorite" not in body["records"][0]
    _, body = await api("GET", "/Accounts", params={"max_num": 1})
    assert body["records"][0]["my_favorite"] is False
    assert body["records"][0]["_module"] == "Accounts"


async def test_relate_field_filters_through_link(api, sugar):
    sugar.store.insert("Contacts", {"id": "C1", "last_name": "Doe", "account_id": "A4"})
    sugar.store.insert("Contacts", {"id": "C2", "last_name": "Roe", "account_id": None})
    _, body = await api("POST", "/Contacts/filter",
                        json={"filter": [{"account_name": {"$starts": "under"}}]})
    assert [r["id"] for r in body["records"]] == ["C1"]
    assert body["records"][0]["account_name"] == "Under_score Ltd"
    _, body = await api("POST", "/Contacts/filter",
                        json={"filter": [{"accounts.name": {"$is_null": True}}]})
    assert [r["id"] for r in body["records"]] == ["C2"]


async def test_metadata_uses_sugar_types(api):
    status, body = await api("GET", "/metadata",
                             params={"type_filter": "modules", "module_filter": "Accounts"})
    assert status == 200
    fields = body["modules"]["Accounts"]["fields"]
    assert list(body["modules"]) == ["Accounts"] and body["_hash"]
    assert fields["name"]["type"] == "name" and fields["annual_revenue"]["type"] == "varchar"
    assert fields["employees"]["type"] == "varchar"
    assert fields["date_modified"]["type"] == "datetime"
