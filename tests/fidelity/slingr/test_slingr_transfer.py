"""CSV import and export jobs: the seed's samples exactly, then what the CSV files do."""

from __future__ import annotations

import base64
import csv
import io
from typing import Any

import pytest
from aiohttp import FormData

from connectors.slingr.emulator import SlingrEmulator
from tests.fidelity.slingr.conftest import API, slingr_login
from tests.fidelity.slingr.replay import pin_id
from tests.fidelity.slingr.samples import EXPORT_FIELDS_REF, EXPORT_REF, IMPORT_CSV, IMPORT_REF


def csv_form(text: str, name: str = "companies.csv") -> FormData:
    form = FormData()
    form.add_field("file", text.encode(), filename=name, content_type="text/csv")
    return form


@pytest.fixture
async def app(aiohttp_client):  # type: ignore[no-untyped-def]
    """A non-developer user on the docs' two companies (and the admin, a developer)."""
    emu = SlingrEmulator(users={"admin@example.com": "admin", "user@test.com": "abcdefgh"},
                         companies=2, contacts=0)
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}

    async def call(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        resp = await client.request(method, API + path, headers=headers, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.read()
        return resp.status, body

    async def job(ref: dict[str, str]) -> dict[str, Any]:
        _, found = await call("GET", ref["jobLink"][len("/api"):])
        _, logs = await call("GET", f"/status/jobs/{ref['jobId']}/logs")
        found["logs"] = [line["message"] for line in logs["items"]]
        return dict(found)

    return emu, call, job


async def test_import_sample_replays_and_creates_the_rows(app):
    emu, call, job = app
    emu.clock = lambda: ms
    ms = pin_id(emu, IMPORT_REF["jobId"])  # the job's id comes before the records'
    status, ref = await call("POST", "/data/companies/import", data=csv_form(IMPORT_CSV))
    assert (status, ref) == (200, IMPORT_REF)
    done = await job(ref)
    assert (done["type"], done["status"], done["hasErrors"]) == ("IMPORT_RECORDS", "FINISHED",
                                                                 False)
    assert done["results"] == {"recordsCreated": 3, "recordsUpdated": 0, "recordsWithErrors": 0}
    assert done["recordsCount"] == done["recordsProcessed"] == 3
    _, found = await call("GET", "/data/companies?name=test1,test2,test3&_sortField=name"
                                 "&_fields=type")
    assert [(r["label"], r["type"]) for r in found["items"]] == [
        ("test1", "a"), ("test2", "b"), ("test3", "c")]
    _, history = await call("GET", "/data/companies/history")
    assert {(e["eventType"], e["contextPath"]) for e in history["items"]} == {
        ("USER_RECORD_CREATED", "entities.companies.import")}


async def test_import_updates_by_unique_name_and_reports_bad_rows(app):
    _, call, job = app
    text = ("name,numberOfEmployees,type,tags[0],tags[1],addresses[0].city\n"
            "Browsezoom,7,b,vip,,Reno\n"
            "Newco,12,zzz,,,\n"
            "Otherco,,c,new,partner,\n")
    _, ref = await call("POST", "/data/companies/import", data=csv_form(text))
    done = await job(ref)
    assert done["hasErrors"] is True
    assert done["results"] == {"recordsCreated": 1, "recordsUpdated": 1, "recordsWithErrors": 1}
    assert "Row [3]: type: Not a valid choice" in done["logs"]
    _, bz = await call("GET", "/data/companies/57fd2d65e4b0ce322b0c8665")
    assert (bz["numberOfEmployees"], bz["type"], bz["tags"], bz["version"]) == (
        7, "b", ["vip"], 380)
    assert [a["city"] for a in bz["addresses"]] == ["Reno"]
    _, other = await call("GET", "/data/companies?name=Otherco")
    assert other["items"][0]["tags"] == ["new", "partner"]
    assert (await call("GET", "/data/companies?name=Newco"))[1]["total"] == 0


async def test_import_into_a_related_entity(app):
    _, call, job = app
    text = ("company.name,company.type,firstName,lastName\n"
            "Blogpad,c,Ann,Smith\n"
            "Brandnew,a,Bob,Jones\n")
    _, ref = await call("POST", "/data/contacts/import", data=csv_form(text))
    assert (await job(ref))["results"]["recordsCreated"] == 2
    _, contacts = await call("GET", "/data/contacts?_sortField=firstName")
    assert [(c["label"], c["company"]["label"]) for c in contacts["items"]] == [
        ("Ann Smith", "Blogpad"), ("Bob Jones", "Brandnew")]
    _, blogpad = await call("GET", "/data/companies/57fd2d65e4b0ce322b0c8565")
    assert blogpad["type"] == "c"  # the related record matched by its unique name, updated


@pytest.mark.parametrize("text, message", [
    ("nope,name\nx,y\n", "Invalid header [nope]: no such field in entity [companies]"),
    ("contactInformation\nx\n", "Invalid header [contactInformation]: give the path of a "
                                "nested field"),
])
async def test_import_with_a_bad_header_imports_nothing(app, text, message):
    emu, call, job = app
    _, ref = await call("POST", "/data/companies/import", data=csv_form(text))
    done = await job(ref)
    assert done["hasErrors"] is True and message in done["logs"]
    assert len(emu.store.all("companies")) == 2


async def test_import_refusals(app):
    _, call, _ = app
    status, body = await call("POST", "/data/ghosts/import", data=csv_form(IMPORT_CSV))
    assert (status, body["code"]) == (404, "notFound")
    status, body = await call("POST", "/data/companies/import", json={"name": "x"})
    assert (status, body["code"]) == (400, "badRequest")
    status, body = await call("POST", "/data/companies/import?triggerEvents=maybe",
                              data=csv_form(IMPORT_CSV))
    assert (status, body["code"]) == (400, "badRequest")


async def test_export_sample_replays_and_the_file_is_the_csv(app):
    emu, call, job = app
    for i in range(60):
        emu.store.insert("companies", {"name": f"B{i:02}", "type": "b", "isCustomer": i % 2 == 0,
                                       "tags": ["x"] * (i % 3)})
    emu.clock = lambda: ms
    ms = pin_id(emu, EXPORT_REF["jobId"])
    status, ref = await call("PUT", "/data/companies/export?type=b&_size=50")
    assert (status, ref) == (200, EXPORT_REF)
    done = await job(ref)
    results = done["results"]
    assert (done["type"], done["hasErrors"], results["recordsExported"]) == (
        "EXPORT_RECORDS", False, 50)
    assert results["fileLink"].endswith(f"{API}/files/{results['fileId']}")
    assert results["fileLink"].startswith("http://127.0.0.1:")
    # The user who exported may download it, though not a developer.
    status, data = await call("GET", f"/files/{results['fileId']}")
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert status == 200 and len(rows) == 51
    header = rows[0]
    assert header[:3] == ["Name", "State", "Type"] and "Tags[1]" in header
    assert not {"id", "label", "version", "Id"} & set(header)  # no system fields
    assert {r[header.index("Type")] for r in rows[1:]} == {"b"}
    assert {r[header.index("Is customer")] for r in rows[1:]} == {"true", "false"}


async def test_export_with_fields_sample_replays_and_fails_on_unknown_fields(app):
    emu, call, job = app
    emu.clock = lambda: ms
    ms = pin_id(emu, EXPORT_FIELDS_REF["jobId"])
    status, ref = await call(
        "PUT", "/data/companies/export?type=b&_size=50&_fields=name,address.state,"
               "mainContact.email")
    assert (status, ref) == (200, EXPORT_FIELDS_REF)
    done = await job(ref)  # the docs' app had `address` and `mainContact`; this one has not
    assert done["hasErrors"] is True and done["results"] == {"recordsExported": 0}
    assert "Field [address.state] does not exist in entity [companies]" in done["logs"]


async def test_export_by_field_names_imports_back(app):
    emu, call, job = app
    _, ref = await call("PUT", "/data/companies/export?_useFieldNames=true&_sortField=name"
                               "&_fields=name,numberOfEmployees,contactInformation.email,"
                               "addresses.state")
    results = (await job(ref))["results"]
    _, data = await call("GET", f"/files/{results['fileId']}")
    text = data.decode()
    assert text.splitlines()[0] == ("name,numberOfEmployees,contactInformation.email,"
                                    "addresses[0].state")
    assert text.splitlines()[1] == "Blogpad,534,molsonre@rakuten.co.jp,OK"
    before = {r["id"]: r["version"] for r in emu.store.all("companies")}
    _, ref = await call("POST", "/data/companies/import", data=csv_form(text))
    assert (await job(ref))["results"] == {"recordsCreated": 0, "recordsUpdated": 2,
                                           "recordsWithErrors": 0}
    assert {r["id"]: r["version"] for r in emu.store.all("companies")} == {
        k: v + 1 for k, v in before.items()}


@pytest.mark.parametrize("path, status, code", [
    ("/data/ghosts/export", 404, "notFound"),
    ("/data/companies/export?type=zzz", 400, "badRequest"),
    ("/data/companies/export?_size=0", 400, "badRequest"),
    ("/data/companies/export?_useFieldNames=yes", 400, "badRequest"),
])
async def test_export_refusals(app, path, status, code):
    _, call, _ = app
    got_status, body = await call("PUT", path)
    assert (got_status, body["code"]) == (status, code)


async def test_non_ascii_file_names_use_rfc_6266(aiohttp_client):
    emu = SlingrEmulator(companies=2, contacts=0)
    client = await aiohttp_client(emu.app)
    token = {"token": await slingr_login(client)}
    bz = "57fd2d65e4b0ce322b0c8665"
    resp = await client.put(f"{API}/data/companies/{bz}", headers=token, json={
        "logo": {"name": "résumé 2024.pdf", "contentType": "application/pdf",
                 "content": base64.b64encode(b"x").decode()}})
    logo = (await resp.json())["logo"]
    resp = await client.get(f"{API}/data/companies/{bz}/files/{logo['id']}", headers=token)
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"resume 2024.pdf\"; "
        "filename*=UTF-8''r%C3%A9sum%C3%A9%202024.pdf")
    assert resp.content_disposition is not None
    assert resp.content_disposition.filename == "résumé 2024.pdf"
