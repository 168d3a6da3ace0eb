"""Every request/response sample of the Slingr REST API docs (seed 001), replayed over HTTP."""

from __future__ import annotations

import re
from itertools import count

from aiohttp import FormData

from connectors.slingr.emulator import SlingrEmulator
from tests.fidelity.slingr.conftest import API, slingr_login
from tests.fidelity.slingr.samples import (
    AGGREGATE_BODY,
    AGGREGATED,
    BLOGPAD_377,
    BROWSEZOOM,
    BROWSEZOOM_381,
    CREATE_BODY,
    CREATED,
    DELETED,
    ENTITY,
    JOB_KEYS,
    UPDATE_BODY,
    UPDATED,
)

HEX24 = re.compile(r"[0-9a-f]{24}")
BZ, BP = BROWSEZOOM["id"], BLOGPAD_377["id"]


def two_companies() -> SlingrEmulator:
    """Only the docs' two records (Browsezoom, Blogpad), one save away from the samples."""
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=2, contacts=0)
    times = [1485292080000, 1485292500000]  # saved in this order, one clock read per save
    emu.clock = lambda: times.pop(0) if len(times) > 1 else times[0]
    emu.store.get("companies", BZ)["version"] = 380  # type: ignore[index]
    emu.store.get("companies", BP)["version"] = 376  # type: ignore[index]
    return emu


async def client_for(emu: SlingrEmulator, aiohttp_client):  # type: ignore[no-untyped-def]
    client = await aiohttp_client(emu.app)
    token = await slingr_login(client, "user@test.com", "abcdefgh")
    return client, {"token": token}


def with_entity(record: dict, sample_has_entity: bool) -> dict:  # type: ignore[type-arg]
    """The docs show `entity` on the first record of a map only; the emulator always adds it."""
    return {**record, "entity": ENTITY}


async def test_login_sample(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, app_name="appname")
    client = await aiohttp_client(emu.app)
    resp = await client.post(f"{API}/auth/login",
                             json={"email": "user@test.com", "password": "abcdefgh"})
    body = await resp.json()
    assert resp.status == 200
    assert list(body) == ["app", "adminUserEmail", "ip", "userEmail", "userName", "userId",
                          "token"]
    assert body["app"] == "appname" and body["adminUserEmail"] is None
    assert body["ip"] == "::ffff:127.0.0.1"
    assert (body["userEmail"], body["userName"]) == ("user@test.com", "User Test")
    assert HEX24.fullmatch(body["userId"]) and re.fullmatch(r"[A-Za-z0-9]{32}", body["token"])
    # The sample's follow-up: GET /data/companies with the token header.
    listed = await client.get(f"{API}/data/companies", headers={"token": body["token"]})
    assert listed.status == 200


async def test_impersonation_sample(aiohttp_client):
    emu = SlingrEmulator(users={"manager@test.com": "manager_password",
                                "employee@test.com": "x"}, app_name="appname")
    client = await aiohttp_client(emu.app)
    resp = await client.post(f"{API}/auth/login", json={
        "email": "manager@test.com", "password": "manager_password",
        "emailImpersonatedUser": "employee@test.com"})
    body = await resp.json()
    assert resp.status == 200
    assert body["adminUserEmail"] == "manager@test.com"
    assert (body["userEmail"], body["userName"]) == ("employee@test.com", "Employee Test")


async def test_read_one_sample(api):
    assert await api("GET", f"/data/companies/{BZ}") == (200, BROWSEZOOM)


async def test_list_sample(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=2, contacts=0)
    emu.clock = lambda: 1470000000000  # older ids than the docs' records
    for i in range(133):
        emu.store.insert("companies", {"name": f"P{i}", "state": "pending", "type": "c"})
    for i in range(40):
        emu.store.insert("companies", {"name": f"A{i}", "state": "active"})
    client, headers = await client_for(emu, aiohttp_client)
    resp = await client.get(f"{API}/data/companies?state=pending&_fields=name,type&_size=2",
                            headers=headers)
    assert await resp.json() == {
        "total": 135, "offset": "57fd2d65e4b0ce322b0c8565",
        "items": [{"id": "57fd2d65e4b0ce322b0c8665", "version": 379, "label": "Browsezoom",
                   "name": "Browsezoom", "type": "a"},
                  {"id": "57fd2d65e4b0ce322b0c8565", "version": 375, "label": "Blogpad",
                   "name": "Blogpad", "type": "b"}]}


async def test_create_update_delete_samples(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=0, contacts=0)
    client, headers = await client_for(emu, aiohttp_client)
    emu.clock = lambda: 1485272566096
    emu.store.ids.counter = 0x604F49  # the sample's ids come out of the same counter
    resp = await client.post(f"{API}/data/companies", json=CREATE_BODY, headers=headers)
    assert (resp.status, await resp.json()) == (200, CREATED)

    rid = CREATED["id"]
    await client.put(f"{API}/data/companies/{rid}", json={}, headers=headers)  # now version 1
    emu.clock = lambda: 1485288240000
    resp = await client.put(f"{API}/data/companies/{rid}", json=UPDATE_BODY, headers=headers)
    assert (resp.status, await resp.json()) == (200, UPDATED)

    emu.store.get("companies", rid)["version"] = 10  # type: ignore[index]
    resp = await client.delete(f"{API}/data/companies/{rid}", headers=headers)
    assert (resp.status, await resp.json()) == (200, DELETED)
    assert emu.store.get("companies", rid) is None


async def test_delete_one_in_background_sample(api, slingr):
    status, body = await api("DELETE", f"/data/companies/{BZ}?_async=true")
    assert status == 200 and list(body) == ["jobLink", "jobId"]
    assert HEX24.fullmatch(body["jobId"]) and body["jobLink"] == f"/api/status/jobs/{body['jobId']}"
    assert slingr.store.get("companies", BZ) is None
    status, job = await api("GET", f"/status/jobs/{body['jobId']}")
    assert (job["type"], job["status"], job["hasErrors"]) == ("DELETE_RECORDS", "FINISHED", False)
    assert job["results"][BZ]["status"] == "ok"


async def test_delete_many_sample(aiohttp_client):
    emu = two_companies()
    emu.store.get("companies", BZ)["version"] = 381  # type: ignore[index]
    emu.store.get("companies", BZ)["lastUpdate"] = 1485292080000  # type: ignore[index]
    emu.store.get("companies", BP)["version"] = 377  # type: ignore[index]
    client, headers = await client_for(emu, aiohttp_client)
    resp = await client.delete(f"{API}/data/companies/{BZ},{BP}", headers=headers)
    assert await resp.json() == {
        BZ: {"status": "ok", "response": with_entity(BROWSEZOOM_381, True)},
        BP: {"status": "ok", "response": with_entity(BLOGPAD_377, False)}}
    assert emu.store.all("companies") == []


async def test_delete_many_in_background_sample(api):
    ids = "588775f63b063a0007604f4c,588775f63b063a0007604f8b"
    status, ref = await api("DELETE", f"/data/companies/{ids}?_async=true")
    assert status == 200 and list(ref) == ["jobLink", "jobId"]
    _, job = await api("GET", f"/status/jobs/{ref['jobId']}")
    assert job["hasErrors"] is True  # neither id exists in the emulator
    assert {r["status"] for r in job["results"].values()} == {"error"}


async def test_delete_over_query_samples(aiohttp_client):
    emu = two_companies()
    emu.store.get("companies", BZ)["version"] = 381  # type: ignore[index]
    emu.store.get("companies", BZ)["lastUpdate"] = 1485292080000  # type: ignore[index]
    client, headers = await client_for(emu, aiohttp_client)
    resp = await client.delete(f"{API}/data/companies?type=a", headers=headers)
    assert await resp.json() == {BZ: {"status": "ok",
                                      "response": with_entity(BROWSEZOOM_381, True)}}
    resp = await client.delete(f"{API}/data/companies?_async=true&type=b", headers=headers)
    ref = await resp.json()
    assert list(ref) == ["jobLink", "jobId"] and emu.store.all("companies") == []


async def test_aggregate_sample(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=0, contacts=0)
    skills = {"Trudoo": [1], "Riffwire": [1, 2], "Snaptags": [2], "Edgeify": [0],
              "Flipopia": [3, None], "Rooxo": [4]}
    n = count()
    for name, values in skills.items():
        company = emu.store.insert("companies", {"name": name})
        for v in values:
            emu.store.insert("contacts", {"lastName": f"L{next(n)}", "numberOfSkills": v,
                                          "company": {"id": company["id"],
                                                      "label": company["label"]}})
    client, headers = await client_for(emu, aiohttp_client)
    resp = await client.put(f"{API}/data/contacts/aggregate", json=AGGREGATE_BODY,
                            headers=headers)
    assert (resp.status, await resp.json()) == (200, AGGREGATED)


async def test_action_samples_on_one_record(aiohttp_client):
    emu = two_companies()
    client, headers = await client_for(emu, aiohttp_client)
    params = {"param1": "a", "param2": "b"}
    resp = await client.put(f"{API}/data/companies/{BZ}/logSomething", json=params,
                            headers=headers)
    assert await resp.json() == BROWSEZOOM_381
    emu.clock = lambda: 1485292080000
    resp = await client.put(f"{API}/data/companies/{BZ}/logSomething?_async=true",
                            json=params, headers=headers)
    assert list(await resp.json()) == ["jobLink", "jobId"]
    resp = await client.put(f"{API}/data/companies/{BZ}/countEmployees", headers=headers)
    assert await resp.json() == {"numberOfEmployees": 95}


async def test_action_samples_on_many_records_and_over_query(aiohttp_client):
    for path in (f"/data/companies/{BZ},{BP}/{{action}}",
                 f"/data/companies/{{action}}?id={BZ},{BP}"):
        emu = two_companies()
        client, headers = await client_for(emu, aiohttp_client)
        url = API + path
        params = {"param1": "a", "param2": "b"}
        resp = await client.put(url.format(action="logSomething"), json=params, headers=headers)
        assert await resp.json() == {
            BZ: {"status": "ok", "response": with_entity(BROWSEZOOM_381, True)},
            BP: {"status": "ok", "response": with_entity(BLOGPAD_377, False)}}
        resp = await client.put(url.format(action="customResponse"), headers=headers)
        assert await resp.json() == {
            BZ: {"status": "ok", "response": "This is a custom response"},
            BP: {"status": "ok", "response": "This is a custom response"}}
        sep = "&" if "?" in path else "?"
        resp = await client.put(url.format(action="logSomething") + f"{sep}_async=true",
                                json=params, headers=headers)
        assert list(await resp.json()) == ["jobLink", "jobId"]
        resp = await client.put(url.format(action="countEmployees"), headers=headers)
        assert await resp.json() == {"numberOfEmployees": 629}


async def test_files_samples(api, slingr):
    form = FormData()
    form.add_field("file", b"this is the content of the file", filename="file.ext",
                   content_type="text/plain")
    status, up = await api("POST", "/files", data=form)
    assert status == 200 and list(up) == ["fileId", "fileLink"]
    assert up["fileLink"] == f"/files/{up['fileId']}"
    status, data = await api("GET", f"/files/{up['fileId']}")
    assert (status, data) == (200, b"this is the content of the file")
    status, _ = await api("PUT", f"/data/companies/{BZ}", json={"logo": {"id": up["fileId"]}})
    assert status == 200
    resp_status, data = await api("GET", f"/data/companies/{BZ}/files/{up['fileId']}")
    assert (resp_status, data) == (200, b"this is the content of the file")
    status, shared = await api("PUT", f"/files/{up['fileId']}/share?ttl=60000")
    assert list(shared) == ["sharedFileId", "sharedFileLink"]
    assert shared["sharedFileLink"] == f"/files/shared/{shared['sharedFileId']}"
    assert await api("GET", shared["sharedFileLink"]) == (200, b"this is the content of the file")


async def test_download_headers_sample(raw_client, slingr):
    token = await slingr_login(raw_client)
    form = FormData()
    form.add_field("file", b"x", filename="file.ext", content_type="text/plain")
    up = await (await raw_client.post(f"{API}/files", data=form,
                                      headers={"token": token})).json()
    await raw_client.put(f"{API}/data/companies/{BZ}", json={"logo": up["fileId"]},
                         headers={"token": token})
    for path in (f"/files/{up['fileId']}", f"/data/companies/{BZ}/files/{up['fileId']}"):
        resp = await raw_client.get(API + path, headers={"token": token})
        assert resp.headers["Content-Type"] == "application/force-download"
        assert resp.headers["Content-Disposition"] == "attachment; filename=file.ext"


async def test_job_samples(api, slingr):
    for _ in range(4):
        await api("DELETE", f"/data/companies/{BZ}?_async=true")  # one ok, then errors
    status, listed = await api("GET", "/status/jobs?status=FINISHED&_size=3")
    assert status == 200 and listed["total"] == 4 and len(listed["items"]) == 3
    assert listed["offset"] == listed["items"][-1]["id"]
    job_id = listed["items"][0]["id"]
    status, job = await api("GET", f"/status/jobs/{job_id}")
    assert JOB_KEYS <= set(job) and job["runBy"]["fullName"] == "Admin Example"
    status, logs = await api("GET", f"/status/job/{job_id}/logs")
    assert status == 200 and logs["total"] == len(logs["items"]) > 0
    assert set(logs["items"][0]) == {"timestamp", "level", "message"}
    slingr.store.jobs[job_id]["status"] = "RUNNING"
    for action, expected in (("stop", "STOPPING"), ("forceStop", "STOPPED"),
                             ("resume", "RUNNING"), ("forceStop", "STOPPED"),
                             ("cancel", "CANCELED")):
        status, job = await api("PUT", f"/status/jobs/{job_id}/{action}")
        assert (status, job["id"], job["status"]) == (200, job_id, expected)
    status, err = await api("PUT", f"/status/jobs/{job_id}/resume")
    assert (status, err["code"]) == (400, "badRequest")
