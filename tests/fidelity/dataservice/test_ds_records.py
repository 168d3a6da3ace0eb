"""Data Service emulator: both URL surfaces, CRUD, paging, metadata, batches and files."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import aiohttp

from connectors.emulation import stepping
from tests.fidelity.dataservice.conftest import API, get_token


def _surfaces(ds, entity="Olympics"):
    return [f"/EntityService/{entity}", f"/EntityService/entity/{ds.entity_id(entity)}",
            f"/EntityService/entity/{entity}"]


async def test_list_on_every_surface_and_both_service_prefixes(api, raw_client, ds):
    expected = None
    for base in _surfaces(ds):
        status, body = await api("GET", f"{base}/read")
        assert status == 200 and body["totalRecordCount"] == 30 and len(body["value"]) == 30
        ids = [r["Id"] for r in body["value"]]
        expected = expected or ids
        assert ids == expected
    token = (await get_token(raw_client))["access_token"]
    resp = await raw_client.get("/other/T2/dataservice_/api/EntityService/Olympics/read",
                                headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200 and (await resp.json())["totalRecordCount"] == 30


async def test_default_order_is_sql_server_guid_order_not_insertion(api, ds):
    _, body = await api("GET", "/EntityService/Olympics/read")
    ids = [r["Id"] for r in body["value"]]
    groups = [i.split("-") for i in ids]
    assert groups == sorted(groups, key=lambda g: (g[4], g[3], g[2], g[1], g[0]))
    assert ids != [r["Id"] for r in ds.store.all("Olympics")]


async def test_record_shape_matches_the_seed(api, ds):
    _, body = await api("GET", "/EntityService/Olympics/read?limit=1")
    record = body["value"][0]
    assert list(record) == ["ClosingDate", "CreatedBy", "CreateTime", "Id", "Logo", "Name",
                            "Nations", "OlymipcsVersion", "OpeningDate", "UpdatedBy",
                            "UpdateTime"]
    uuid.UUID(record["Id"])
    assert record["CreateTime"].endswith("Z") and len(record["CreateTime"]) == 24


async def test_paging_start_limit_total_and_cap(api, ds):
    _, all_rows = await api("GET", "/EntityService/Olympics/read")
    _, page = await api("GET", "/EntityService/Olympics/read?start=10&limit=7")
    assert page["totalRecordCount"] == 30
    assert [r["Id"] for r in page["value"]] == [r["Id"] for r in all_rows["value"][10:17]]
    ds.max_limit = 5
    _, capped = await api("GET", "/EntityService/Olympics/read?limit=1000")
    assert len(capped["value"]) == 5
    _, past = await api("GET", "/EntityService/Olympics/read?start=500")
    assert past == {"totalRecordCount": 30, "value": []}


async def test_default_page_is_100_and_list_ignores_odata(api):
    status, body = await api("GET", "/EntityService/Athletes/read?$filter=Age gt 99&$orderby=Name")
    assert status == 200 and body["totalRecordCount"] == 60 and len(body["value"]) == 60


async def test_empty_or_bad_paging_params_are_problem_details(api):
    status, body = await api("GET", "/EntityService/Olympics/read?start=")
    assert status == 400 and body["errors"] == {"start": ["The value '' is invalid."]}
    status, body = await api("GET", "/EntityService/Olympics/read?limit=ten")
    assert status == 400 and body["status"] == 400 and "limit" in body["errors"]
    status, body = await api("GET", "/EntityService/Olympics/read?limit=-1")
    assert status == 400 and "error" in body


async def test_crud_round_trip_on_both_surfaces(api, ds):
    # Writes 1 s apart (the emulator's clock steps per read), so UpdateTime must move on.
    ds.clock = stepping(datetime(2024, 5, 1, 12, 0, tzinfo=UTC), timedelta(seconds=1))
    for base in _surfaces(ds)[:2]:
        status, made = await api("POST", f"{base}/insert", json={
            "Name": "Paris 2024", "Nations": 206, "OpeningDate": "2024-07-26",
            "Id": "00000000-0000-0000-0000-000000000001", "Logo": {"Name": "x"}})
        assert status == 200 and made["Name"] == "Paris 2024" and made["Nations"] == 206
        assert made["Id"] != "00000000-0000-0000-0000-000000000001"  # server-set
        assert made["Logo"] is None and made["CreatedBy"] == made["UpdatedBy"]
        rid = made["Id"]
        status, got = await api("GET", f"{base}/read/{rid.upper()}")
        assert status == 200 and got == made
        status, upd = await api("POST", f"{base}/update/{rid}", json={"Nations": None,
                                                                      "ClosingDate": "2024-08-11"})
        assert status == 200 and upd["Nations"] is None and upd["Name"] == "Paris 2024"
        assert upd["ClosingDate"] == "2024-08-11" and upd["UpdateTime"] > made["UpdateTime"]
        status, body = await api("DELETE", f"{base}/delete/{rid}")
        assert (status, body) == (200, True)
        status, body = await api("GET", f"{base}/read/{rid}")
        assert status == 404 and rid in body["error"] and body["traceId"]
        assert ds.store.get("Olympics", rid) is None


async def test_update_is_post_only(api, ds):
    rid = ds.store.all("Olympics")[0]["Id"]
    for method in ("PUT", "PATCH"):
        status, _ = await api(method, f"/EntityService/Olympics/update/{rid}", json={})
        assert status == 405


async def test_validation_errors_are_400_with_error_body(api):
    cases = [{"Nations": 3}, {"Name": "x", "Nations": "many"}, {"Name": "x", "Nations": 1.5},
             {"Name": "x", "Bogus": 1}, {"Name": "x" * 201}, {"Name": "x", "OpeningDate": "soon"}]
    for record in cases:
        status, body = await api("POST", "/EntityService/Olympics/insert", json=record)
        assert status == 400 and isinstance(body["error"], str) and body["traceId"], record


async def test_json_body_needs_json_content_type(api):
    status, body = await api("POST", "/EntityService/Olympics/insert", data=b'{"Name": "x"}',
                             headers={"Content-Type": "text/plain"})
    assert status == 415 and body["status"] == 415
    status, body = await api("POST", "/EntityService/Olympics/insert", data=b"{oops",
                             headers={"Content-Type": "application/json"})
    assert status == 400 and body["title"] == "One or more validation errors occurred."


async def test_unknown_entity_record_and_route(api):
    status, body = await api("GET", "/EntityService/olympics/read")  # names are case-sensitive
    assert status == 404 and "olympics" in body["error"]
    status, body = await api("GET", f"/EntityService/entity/{uuid.uuid4()}/read")
    assert status == 404
    status, _ = await api("GET", "/EntityService/Olympics/frobnicate")
    assert status == 404


async def test_typed_fields_relationship_expansion_and_long_text(api, ds):
    game = ds.store.all("Olympics")[0]
    status, made = await api("POST", "/EntityService/Athletes/insert", json={
        "Name": "Ana Li", "Age": "31", "Height": 1.756, "Active": True, "Sport": 1,
        "Medals": [2, 0], "Games": game["Id"], "Born": "1993-05-01",
        "LastSeen": "2024-07-30T12:00:00+02:00", "Bio": "b" * 600})
    assert status == 200
    assert (made["Age"], made["Height"], made["Medals"]) == (31, 1.76, [0, 2])
    assert made["LastSeen"] == "2024-07-30T10:00:00.000Z"
    assert made["Games"]["Id"] == game["Id"] and made["Games"]["Name"] == game["Name"]
    _, flat = await api("GET", f"/EntityService/Athletes/read/{made['Id']}?expansionLevel=0")
    assert flat["Games"] == game["Id"]
    _, listed = await api("POST", "/EntityService/Athletes/query", json={
        "filterGroup": {"queryFilters": [{"fieldName": "Id", "operator": "=",
                                          "value": made["Id"]}]}})
    assert listed["value"][0]["Bio"] == "HasValue=true Length=600"
    _, full = await api("GET", f"/v2/EntityService/entity/{ds.entity_id('Athletes')}"
                               f"/read/{made['Id']}")
    assert full["Bio"] == "b" * 600
    for bad in ({"Name": "x", "Sport": 9}, {"Name": "x", "Active": "yes"},
                {"Name": "x", "Games": str(uuid.uuid4())}, {"Name": "x", "Medals": 1}):
        status, _ = await api("POST", "/EntityService/Athletes/insert", json=bad)
        assert status == 400, bad
    status, _ = await api("GET", "/EntityService/Athletes/read?expansionLevel=7")
    assert status == 400


async def test_metadata_endpoints(api, ds):
    status, entities = await api("GET", "/Entity")
    assert status == 200 and {e["name"] for e in entities} == {"Olympics", "Athletes"}
    status, meta = await api("GET", f"/Entity/{ds.entity_id('Athletes')}")
    fields = {f["name"]: f for f in meta["fields"]}
    assert meta["recordCount"] == 60 and meta["entityType"] == "Entity"
    assert fields["Id"]["isPrimaryKey"] and fields["Id"]["isSystemField"]
    assert fields["Age"]["sqlType"]["name"] == "INT"
    assert fields["Games"]["fieldDisplayType"] == "Relationship"
    assert fields["Games"]["referenceEntity"]["name"] == "Olympics"
    assert fields["Sport"]["choiceSetId"]
    status, by_name = await api("GET", "/Entity/Olympics/metadata")
    assert status == 200 and by_name["id"] == ds.entity_id("Olympics")
    status, sets = await api("GET", "/Entity/choiceset")
    cs_id = next(s["id"] for s in sets if s["name"] == "Sports")
    status, values = await api("POST", f"/EntityService/entity/{cs_id}/query_expansion", json={})
    import json
    assert [v["NumberId"] for v in json.loads(values["jsonValue"])] == [0, 1, 2, 3, 4, 5]


async def test_insert_batch_partial_failure_and_fail_on_first(api, ds):
    good, bad = {"Name": "A"}, {"Name": "B", "Nations": "lots"}
    status, body = await api("POST", "/EntityService/Olympics/insert-batch",
                             json=[good, bad, {"Name": "C"}])
    assert status == 200
    assert [r["Name"] for r in body["successRecords"]] == ["A", "C"]
    assert body["failureRecords"] == [{"error": body["failureRecords"][0]["error"],
                                       "record": bad}]
    assert "Nations" in body["failureRecords"][0]["error"]
    status, body = await api("POST", "/EntityService/Olympics/insert-batch?failOnFirst=true",
                             json=[{"Name": "D"}, bad, {"Name": "E"}])
    assert [r["Name"] for r in body["successRecords"]] == ["D"] and len(body["failureRecords"]) == 1
    names = {r["Name"] for r in ds.store.all("Olympics")}
    assert {"A", "C", "D"} <= names and "E" not in names
    ds.batch_failure_status = 400
    status, body = await api("POST", "/EntityService/Olympics/insert-batch", json=[good, bad])
    assert status == 400 and len(body["successRecords"]) == 1
    status, _ = await api("POST", "/EntityService/Olympics/insert-batch", json={"Name": "x"})
    assert status == 400


async def test_update_and_delete_batches(api, ds):
    rows = ds.store.all("Olympics")[:3]
    ghost = str(uuid.uuid4())
    status, body = await api("POST", "/EntityService/Olympics/update-batch", json=[
        {**rows[0], "Nations": 7}, {"Id": ghost, "Nations": 1}, {"Nations": 2},
        {"Id": rows[1]["Id"], "Name": "Renamed"}])
    assert status == 200
    first = body["successRecords"][0]
    assert (first["Id"], first["Nations"]) == (rows[0]["Id"], 7)
    assert body["successRecords"][1]["Name"] == "Renamed"
    assert len(body["failureRecords"]) == 2
    status, body = await api("POST", "/EntityService/Olympics/delete-batch",
                             json=[rows[0]["Id"], ghost, rows[2]["Id"]])
    assert [r["Id"] for r in body["successRecords"]] == [rows[0]["Id"], rows[2]["Id"]]
    assert body["failureRecords"][0]["record"] == {"Id": ghost}
    assert ds.store.get("Olympics", rows[0]["Id"]) is None
    status, body = await api("POST", "/EntityService/Olympics/delete-batch?failOnFirst=true",
                             json=[ghost, rows[1]["Id"]])
    assert body["successRecords"] == [] and ds.store.get("Olympics", rows[1]["Id"])


async def test_files_on_both_attachment_routes(api, ds):
    rid = ds.store.all("Olympics")[0]["Id"]
    for base in (f"/Attachment/Olympics/{rid}/Logo",
                 f"/Attachment/entity/{ds.entity_id('Olympics')}/{rid}/Logo"):
        form = aiohttp.FormData()
        form.add_field("file", b"\x89PNG-bytes", filename="logo é.png", content_type="image/png")
        status, _ = await api("POST", base, data=form)
        assert status == 200
        assert ds.store.get("Olympics", rid)["Logo"]["Size"] == 10
        resp_status, data = await api("GET", base)
        assert (resp_status, data) == (200, b"\x89PNG-bytes")
        status, _ = await api("DELETE", base)
        assert status == 200 and ds.store.get("Olympics", rid)["Logo"] is None
        status, body = await api("GET", base)
        assert status == 404 and body["error"]


async def test_file_download_headers_and_errors(api, raw_client, ds):
    rid = ds.store.all("Olympics")[0]["Id"]
    form = aiohttp.FormData()
    form.add_field("file", b"hello", filename="a.txt", content_type="text/plain")
    await api("POST", f"/Attachment/Olympics/{rid}/Logo", data=form)
    token = (await get_token(raw_client))["access_token"]
    resp = await raw_client.get(f"{API}/Attachment/Olympics/{rid}/Logo",
                                headers={"Authorization": f"Bearer {token}"})
    assert resp.headers["Content-Type"] == "text/plain"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="a.txt"')
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="a.txt")
    status, body = await api("POST", f"/Attachment/Olympics/{rid}/Logo", data=form)
    assert status == 400 and "'file'" in body["error"]
    status, _ = await api("GET", f"/Attachment/Olympics/{rid}/Name")
    assert status == 400
    status, _ = await api("GET", f"/Attachment/Olympics/{uuid.uuid4()}/Logo")
    assert status == 404


async def test_csv_bulk_upload(api, ds):
    form = aiohttp.FormData()
    form.add_field("file", b"Name,Nations\nOslo 1952,30\nBad,many\n", filename="o.csv",
                   content_type="text/csv")
    status, body = await api("POST", f"/EntityService/entity/{ds.entity_id('Olympics')}"
                                     "/bulk-upload", data=form)
    assert status == 200 and (body["totalRecords"], body["insertedRecords"]) == (2, 1)
    assert body["errorFileLink"]
