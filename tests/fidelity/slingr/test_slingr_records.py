"""Slingr auth, writes, locking, validation, delete many, files and fault knobs over HTTP."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest

from connectors.emulation.server import start
from connectors.slingr.emulator import EMULATOR_KEY, SlingrEmulator, create_app
from tests.fidelity.slingr.conftest import API, slingr_login

BZ, BP = "57fd2d65e4b0ce322b0c8665", "57fd2d65e4b0ce322b0c8565"


@pytest.mark.parametrize("body, status, code", [
    ({"email": "admin@example.com", "password": "nope"}, 401, "unauthorized"),
    ({"email": "ghost@example.com", "password": "admin"}, 401, "unauthorized"),
    ({"email": "admin@example.com"}, 400, "badRequest"),
    ({"password": "admin"}, 400, "badRequest"),
    ({"email": "admin@example.com", "password": "admin",
      "emailImpersonatedUser": "ghost@test.com"}, 404, "notFound"),
    ({"email": "user@test.com", "password": "abcdefgh",
      "emailImpersonatedUser": "admin@example.com"}, 403, "forbidden"),
])
async def test_login_errors(raw_client, body, status, code):
    resp = await raw_client.post(f"{API}/auth/login", json=body)
    got = await resp.json()
    assert (resp.status, got["code"]) == (status, code) and set(got) == {"code", "message"}


async def test_token_header_required_and_expiry_knob(raw_client, slingr):
    for headers in ({}, {"token": "x" * 32}, {"Authorization": "Bearer x"}):
        resp = await raw_client.get(f"{API}/data/companies", headers=headers)
        assert resp.status == 401 and (await resp.json())["code"] == "unauthorized"
    token = await slingr_login(raw_client)
    assert (await raw_client.get(f"{API}/data/companies", headers={"token": token})).status == 200
    slingr.faults.expire_tokens()
    assert (await raw_client.get(f"{API}/data/companies", headers={"token": token})).status == 401


async def test_sliding_idle_expiry(aiohttp_client):
    emu = SlingrEmulator(companies=2, contacts=0, token_idle_lifetime=0.3)
    client = await aiohttp_client(emu.app)
    token = await slingr_login(client)
    for _ in range(3):  # each use restarts the idle clock
        await asyncio.sleep(0.15)
        assert (await client.get(f"{API}/data/companies", headers={"token": token})).status == 200
    await asyncio.sleep(0.4)
    assert (await client.get(f"{API}/data/companies", headers={"token": token})).status == 401


async def test_maintenance_only_developers_log_in(raw_client, slingr):
    token = await slingr_login(raw_client)
    slingr.faults.maintenance(True)
    resp = await raw_client.get(f"{API}/data/companies", headers={"token": token})
    assert (resp.status, (await resp.json())["code"]) == (503, "applicationUnavailable")
    resp = await raw_client.post(f"{API}/auth/login",
                                 json={"email": "user@test.com", "password": "abcdefgh"})
    assert (resp.status, (await resp.json())["code"]) == (503, "applicationUnavailable")
    await slingr_login(raw_client)  # the app's developer still gets in
    slingr.faults.maintenance(False)
    assert (await raw_client.get(f"{API}/data/companies", headers={"token": token})).status == 200


async def test_validation_errors_body(api):
    status, body = await api("POST", "/data/companies", json={"state": "sdfsdfsd"})
    assert status == 400
    assert body == {"code": "validationErrors", "message": "There are validation errors",
                    "errors": [{"field": "name", "fieldLabel": "Name", "code": "required",
                                "message": "This field is required", "additionalInfo": None},
                               {"field": "state", "fieldLabel": "State", "code": "invalid",
                                "message": "Not a valid choice",
                                "additionalInfo": {"rejectedValue": "sdfsdfsd"}}]}


@pytest.mark.parametrize("field, value", [
    ("numberOfEmployees", "many"), ("numberOfEmployees", 1.5), ("isCustomer", "yes"),
    ("lastMeeting", "2020-01-01T00:00:00Z"), ("rating", "high"), ("nope", 1),
    ("contactInformation", "x"), ("logo", {"id": "000000000000000000000000"}),
])
async def test_invalid_values_are_validation_errors(api, field, value):
    status, body = await api("PUT", f"/data/companies/{BZ}", json={field: value})
    assert (status, body["code"]) == (400, "validationErrors")
    assert body["errors"][0]["field"] == field


async def test_partial_update_null_clears_and_body_id_ignored(api, slingr):
    status, rec = await api("PUT", f"/data/companies/{BZ}",
                            json={"id": BP, "notes": None, "contactInformation": {"email":
                                                                                   "n@x.io"}})
    assert status == 200 and rec["id"] == BZ and rec["version"] == 380
    assert "notes" not in rec and rec["name"] == "Browsezoom"
    assert rec["contactInformation"] == {"phoneNumber": "1-702-845-9380", "email": "n@x.io",
                                         "id": "58837fdd3b063a0007603547",
                                         "label": "Contact Information"}
    assert slingr.store.get("companies", BP)["name"] == "Blogpad"


async def test_multi_valued_items_matched_by_id(api):
    _, rec = await api("GET", f"/data/companies/{BZ}")
    keep = rec["addresses"][0]["id"]
    status, rec = await api("PUT", f"/data/companies/{BZ}", json={"addresses": [
        {"id": keep, "state": "CA"}, {"state": "TX", "zipCode": "73301"}]})
    assert status == 200
    first, second = rec["addresses"]
    assert (first["id"], first["city"], first["label"]) == (keep, "Las Vegas", "CA - 89145")
    assert second["label"] == "TX - 73301" and len(second["id"]) == 24 and second["id"] != keep


async def test_optimistic_locking(api):
    status, body = await api("PUT", f"/data/companies/{BZ}", json={"version": 1, "notes": "x"})
    assert (status, body["code"]) == (409, "optimisticLocking") and set(body) == {"code",
                                                                                   "message"}
    status, rec = await api("PUT", f"/data/companies/{BZ}", json={"version": 379, "notes": "x"})
    assert (status, rec["version"]) == (200, 380)
    status, rec = await api("PUT", f"/data/companies/{BZ}", json={"notes": "y"})  # no lock
    assert (status, rec["version"]) == (200, 381)


async def test_relationship_write_forms_and_label_cascade(api, slingr):
    assert (await api("GET", f"/data/companies/{BZ}"))[0] == 200
    for value in (BZ, {"id": BZ}, "Browsezoom", {"label": "Browsezoom"}):
        status, rec = await api("POST", "/data/contacts", json={"lastName": "X", "company": value})
        assert status == 200 and rec["company"] == {"id": BZ, "label": "Browsezoom"}
    await api("POST", "/data/companies", json={"name": "Browsezoom"})
    status, body = await api("POST", "/data/contacts", json={"lastName": "Y",
                                                             "company": "Browsezoom"})
    assert status == 400 and body["errors"][0]["message"] == "Label is not unique"
    await api("PUT", f"/data/companies/{BZ}", json={"name": "Renamed"})
    status, listed = await api("GET", f"/data/contacts?company.id={BZ}")
    assert listed["total"] == 4 and {r["company"]["label"] for r in listed["items"]} == {
        "Renamed"}


async def test_delete_many_mixes_ok_and_error_and_unknown_record_is_404(api, slingr):
    ghost = "000000000000000000000001"
    status, body = await api("DELETE", f"/data/companies/{BZ},{ghost}")
    assert status == 200 and body[BZ]["status"] == "ok" and body[BZ]["response"]["id"] == BZ
    assert body[ghost]["status"] == "error" and ghost in body[ghost]["errorMessage"]
    status, body = await api("DELETE", f"/data/companies/{ghost}")
    assert (status, body["code"]) == (404, "notFound")
    status, body = await api("GET", f"/data/companies/{BZ}")
    assert (status, body["code"]) == (404, "notFound")


async def test_inline_file_upload_and_download_checks(api):
    content = base64.b64encode(b"PNGDATA").decode()
    status, rec = await api("PUT", f"/data/companies/{BZ}", json={
        "logo": {"name": "logo.png", "contentType": "image/png", "content": content}})
    assert status == 200 and rec["logo"]["name"] == "logo.png"
    fid = rec["logo"]["id"]
    assert await api("GET", f"/data/companies/{BZ}/files/{fid}") == (200, b"PNGDATA")
    status, body = await api("GET", f"/data/companies/{BP}/files/{fid}")  # not that record's
    assert (status, body["code"]) == (404, "notFound")
    status, body = await api("PUT", f"/data/companies/{BZ}", json={
        "logo": {"name": "a.png", "content": content}})
    assert body["errors"][0]["message"].startswith("Content type is required")


async def test_files_download_is_for_developers_only(raw_client):
    token = await slingr_login(raw_client, "user@test.com", "abcdefgh")
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="a.txt", content_type="text/plain")
    up = await (await raw_client.post(f"{API}/files", data=form, headers={"token": token})).json()
    resp = await raw_client.get(f"{API}/files/{up['fileId']}", headers={"token": token})
    assert (resp.status, (await resp.json())["code"]) == (403, "forbidden")


async def test_fault_knobs_use_slingr_bodies(api, slingr):
    slingr.faults.fail(500, path=f"{API}/data/companies", method="GET")
    status, body = await api("GET", "/data/companies")
    assert (status, body["code"]) == (500, "systemException")
    slingr.faults.rate_limit(retry_after=2)
    assert (await api("GET", "/data/companies"))[0] == 429
    assert slingr.calls("GET", "/data/companies") == 2


async def test_drop_after_processing_keeps_the_write():
    emu = SlingrEmulator(companies=2, contacts=0)
    runner, base = await start(emu.app)
    try:
        async with aiohttp.ClientSession(base) as session:
            login = await session.post(f"{API}/auth/login",
                                       json={"email": "admin@example.com", "password": "admin"})
            headers = {"token": (await login.json())["token"]}
            emu.faults.drop(path=f"{API}/data/companies", method="POST")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(f"{API}/data/companies", json={"name": "lost"},
                                   headers=headers)
            emu.faults.drop(after_processing=True, path=f"{API}/data/companies", method="POST")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(f"{API}/data/companies", json={"name": "kept"},
                                   headers=headers)
            assert sorted(r["name"] for r in emu.store.all("companies")) == [
                "Blogpad", "Browsezoom", "kept"]
    finally:
        await runner.cleanup()


async def test_create_app_credentials_replace_default(aiohttp_client):
    app = create_app("ops@acme.io", "pw", companies=2, contacts=0)
    assert isinstance(app[EMULATOR_KEY], SlingrEmulator)
    client = await aiohttp_client(app)
    assert (await client.post(f"{API}/auth/login", json={
        "email": "admin@example.com", "password": "admin"})).status == 401
    await slingr_login(client, "ops@acme.io", "pw")


async def test_unknown_paths_and_bad_json(api):
    status, body = await api("GET", "/nothing/here")
    assert (status, body["code"]) == (404, "notFound")
    status, body = await api("POST", "/data/companies", data=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert (status, body["code"]) == (400, "badRequest")
