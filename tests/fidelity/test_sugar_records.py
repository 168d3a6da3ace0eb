"""Sugar emulator: record CRUD, optimistic locking, file fields, /bulk and errors (doc §3-10)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import aiohttp

from connectors.sugarcrm.emulator.sample import tiny_png


async def test_create_read_update_delete_cycle(api, sugar):
    now = [datetime(2024, 5, 1, 12, 0, 0)]
    sugar.clock = lambda: now[0]
    status, created = await api("POST", "/Accounts", json={"name": "Nelson Inc",
                                                           "employees": 12, "headcount_c": "7"})
    assert status == 200
    assert created["employees"] == "12" and created["headcount_c"] == 7  # varchar keeps text
    assert created["date_entered"].endswith("+00:00") and created["_module"] == "Accounts"
    rid = created["id"]
    now[0] += timedelta(seconds=1)
    status, updated = await api("PUT", f"/Accounts/{rid}", json={"industry": "Energy"})
    assert updated["name"] == "Nelson Inc" and updated["industry"] == "Energy"  # partial
    assert updated["date_modified"] == "2024-05-01T12:00:01+00:00"  # the clock's second
    status, again = await api("PUT", f"/Accounts/{rid}", json={"industry": "Retail"})
    assert again["date_modified"] == updated["date_modified"]  # same second, same stamp
    assert await api("DELETE", f"/Accounts/{rid}") == (200, {"id": rid})
    message = f"Could not find record: {rid} in module: Accounts"
    for method in ("GET", "PUT", "DELETE"):
        assert await api(method, f"/Accounts/{rid}", json={}) == (
            404, {"error": "not_found", "error_message": message})
    _, body = await api("GET", "/Accounts", params={"deleted": "1", "filter[0][id]": rid})
    assert body["records"] == [{"id": rid, "deleted": True}]


async def test_create_with_client_id_duplicate_and_validation(api):
    status, created = await api("POST", "/Contacts", json={"id": "my-id", "last_name": "Doe"})
    assert status == 200 and created["id"] == "my-id"
    assert await api("POST", "/Contacts", json={"id": "my-id", "last_name": "Doe"}) == (422, {
        "error": "invalid_parameter",
        "error_message": "Record already exists: my-id in module: Contacts"})
    assert await api("POST", "/Accounts", json={"industry": "Energy"}) == (422, {
        "error": "invalid_parameter", "error_message":
        "There were validation errors on the submitted data. Record was not saved."})
    status, body = await api("PUT", "/Contacts/my-id", json={"id": "other"})
    assert status == 422
    assert body["error_message"] == "Not allowed to change record id 'my-id' in the Contacts module"


async def test_optimistic_locking(api, sugar):
    # A conflict shows only when the saves are seconds apart: Sugar compares whole-second
    # date_modified, so two saves in one second cannot conflict (the clock steps 1 s a read).
    ticks = iter(datetime(2024, 5, 1, 12, 0, 0) + timedelta(seconds=i) for i in range(10**6))
    sugar.clock = lambda: next(ticks)
    _, rec = await api("POST", "/Accounts", json={"name": "Locky"})
    stamp = rec["date_modified"]
    status, ok = await api("PUT", f"/Accounts/{rec['id']}", json={"rating": "A"},
                           headers={"X-Timestamp": stamp})
    assert status == 200
    status, body = await api("PUT", f"/Accounts/{rec['id']}", json={"rating": "B"},
                             headers={"X-Timestamp": stamp})
    assert status == 409 and body["error"] == "edit_conflict"
    assert body["record"]["rating"] == "A"
    assert body["record"]["date_modified"] == ok["date_modified"]
    status, body = await api("PUT", f"/Accounts/{rec['id']}", json={"rating": "B"},
                             headers={"X-Timestamp": "yesterday-ish"})
    assert (status, body["error_message"]) == (422, "Bad timestamp yesterday-ish")


async def test_bad_json_and_unknown_routes(api, raw_client):
    status, body = await api("POST", "/Accounts", data=b"{nope", headers={"Content-Type": ""})
    assert status == 422 and body["error"] == "invalid_parameter"
    assert await api("GET", "/Widgets") == (404, {
        "error": "no_method",
        "error_message": "Could not find any route that accepted a path like: Widgets"})
    resp = await raw_client.get("/rest/v10/Widgets/x")
    assert resp.status == 404 and resp.headers["Cache-Control"] == "no-store"


async def _contact(api):
    _, rec = await api("POST", "/Contacts", json={"last_name": "Pic"})
    return rec["id"]


async def test_file_field_round_trip(api):
    rid = await _contact(api)
    message = "The requested file Contacts :: picture could not be found."
    assert await api("GET", f"/Contacts/{rid}/file/picture") == (
        404, {"error": "not_found", "error_message": message})
    png = tiny_png(3, 2)
    form = aiohttp.FormData()
    form.add_field("picture", png, filename="me.png", content_type="image/png")
    status, body = await api("POST", f"/Contacts/{rid}/file/picture", data=form)
    assert status == 200
    assert body["picture"]["content-length"] == len(png) and body["picture"]["width"] == 3
    assert body["record"]["picture"]
    status, listing = await api("GET", f"/Contacts/{rid}/file")
    assert listing["picture"]["name"] == "me.png"
    status, data = await api("GET", f"/Contacts/{rid}/file/picture")
    assert (status, data) == (200, png)
    status, body = await api("DELETE", f"/Contacts/{rid}/file/picture")
    assert status == 200 and "picture" not in body and body["record"]["picture"] is None
    status, body = await api("POST", f"/Contacts/{rid}/file/picture",
                             data={"other": "x"})
    assert (status, body) == (422, {"error": "missing_parameter", "error_message":
                                    "Incorrect field name for attachement: picture"})


async def test_raw_put_with_base64_and_disposition(api, raw_client):
    rid = await _contact(api)
    png = tiny_png()
    status, body = await api("PUT", f"/Contacts/{rid}/file/picture?filename=a.png",
                             data=base64.b64encode(png),
                             headers={"X-Content-Transfer-Encoding": "base64"})
    assert status == 200 and body["picture"]["content-type"] == "image/png"
    token = (await (await raw_client.post("/rest/v10/oauth2/token", json={
        "grant_type": "password", "client_id": "sugar", "username": "admin",
        "password": "admin"})).json())["access_token"]
    resp = await raw_client.get(f"/rest/v10/Contacts/{rid}/file/picture",
                                params={"force_download": "1"}, headers={"OAuth-Token": token})
    assert resp.headers["Content-Disposition"] == 'attachment; filename="a.png"'
    assert await resp.read() == png


async def test_bulk_runs_in_order_and_reports_each_item(api):
    status, body = await api("POST", "/bulk", json={"requests": [
        {"url": "/v10/Accounts", "method": "POST", "data": json.dumps({"name": "test123"})},
        {"url": "/v10/Accounts?max_num=1&order_by=date_entered:desc", "method": "GET"},
        {"url": "/v10/Accounts/nope", "method": "PUT", "data": {"name": "x"}},
        {"url": "/v10/Accounts", "method": "POST", "data": "{broken"},
    ]})
    assert status == 200 and len(body) == 4
    created, listed, missing, broken = body
    assert created["status"] == 200 and created["contents"]["name"] == "test123"
    assert created["headers"] == [] and created["status_text"] == "OK"
    assert listed["contents"]["records"][0]["id"] == created["contents"]["id"]
    assert missing["status"] == 404 and missing["contents"]["error"] == "not_found"
    assert broken["status"] == 422 and broken["contents"]["error"] == "invalid_parameter"


async def test_bulk_url_precheck_runs_nothing(api, sugar):
    before = len(sugar.store.all("Accounts"))
    status, body = await api("POST", "/bulk", json={"requests": [
        {"url": "/v10/Accounts", "method": "POST", "data": '{"name": "never"}'},
        {"method": "GET"}]})
    assert (status, body) == (422, {"error": "missing_parameter",
                                    "error_message": "Invalid request - URL is missing"})
    assert len(sugar.store.all("Accounts")) == before


async def test_bulk_item_honours_x_timestamp(api):
    _, rec = await api("POST", "/Accounts", json={"name": "Bulk lock"})
    _, body = await api("POST", "/bulk", json={"requests": [
        {"url": f"/v10/Accounts/{rec['id']}", "method": "PUT", "data": '{"rating": "C"}',
         "headers": {"X-Timestamp": "2001-01-01T00:00:00+00:00"}}]})
    assert body[0]["status"] == 409 and body[0]["contents"]["record"]["id"] == rec["id"]
