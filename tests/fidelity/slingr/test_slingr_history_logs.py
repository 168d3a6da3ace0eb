"""History (audit logs) written by the emulator's own writes, and app logs; seed samples exact."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.slingr.emulator import SlingrEmulator
from tests.fidelity.slingr.conftest import API, slingr_login
from tests.fidelity.slingr.replay import assert_exact, pin_id, seq
from tests.fidelity.slingr.samples import (
    ENTITY_HISTORY,
    LOG_BODY,
    LOG_POSTED,
    LOGS_FOUND,
    RECORD_HISTORY,
)

BZ = "57fd2d65e4b0ce322b0c8665"
TEST1 = "588f8b99b45fc9000bc1bfc4"


def ui_form(name: str, **fields: Any) -> dict[str, Any]:
    """What the app's UI sends on create: every form field, nulls included."""
    return {"name": name, "state": "active", **fields, "numberOfEmployees": None,
            "isCustomer": False, "contactInformation": {"phoneNumber": None, "email": None},
            "homepage": None, "taxId": None, "rating": None, "notes": None,
            "lastMeeting": None}


async def test_history_samples_replay_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"dgaviola@slingr.io": "pw"}, companies=0, contacts=0)
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "dgaviola@slingr.io", "pw")}

    async def write(method: str, path: str, body: dict[str, Any], ip: str, first_id: str,
                    last_update: int, when: int) -> None:
        emu.remote_ip = ip
        pin_id(emu, first_id)
        emu.clock = seq(last_update, when)  # lastUpdate is read first, then ids and history
        resp = await client.request(method, API + path, json=body, headers=headers)
        assert resp.status == 200, await resp.text()

    await write("POST", "/data/companies", ui_form("test1", type="a"), "10.240.0.11",
                "588f8b99b45fc9000bc1bfc3", 1485802380000, 1485802393836)
    await write("PUT", f"/data/companies/{TEST1}", {"type": "b", "addresses": []},
                "10.240.0.15", "588f8ba7b45fc9000bc1bfce", 1485802380000, 1485802407010)
    await assert_exact(await client.get(f"{API}/data/companies/{TEST1}/history",
                                        headers=headers), RECORD_HISTORY)
    await write("POST", "/data/companies", ui_form("test2", type="c", color="#e1e1e1"),
                "10.240.0.11", "588f9757b45fc9000bc1bfdf", 1485805380000, 1485805399966)
    for name in ("history", "auditLogs"):  # the newer docs' name for the same call
        await assert_exact(await client.get(f"{API}/data/companies/{name}?_size=2",
                                            headers=headers), ENTITY_HISTORY)


@pytest.fixture
async def user(aiohttp_client):  # type: ignore[no-untyped-def]
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=2, contacts=0)
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}

    async def call(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        resp = await client.request(method, API + path, headers=headers, **kw)
        return resp.status, await resp.json()

    return emu, call


async def test_history_follows_a_record_through_action_and_delete(user):
    emu, call = user
    emu.clock = lambda: 1500000000000
    await call("PUT", f"/data/companies/{BZ}", json={"notes": "first"})
    await call("PUT", f"/data/companies/{BZ}", json={"notes": "first"})  # no change, no entry
    emu.clock = lambda: 1600000000000
    await call("PUT", f"/data/companies/{BZ}/logSomething", json={})
    await call("DELETE", f"/data/companies/{BZ}")
    status, history = await call("GET", f"/data/companies/{BZ}/history")
    assert status == 200 and history["total"] == 3  # answered although the record is gone
    deleted, action, changed = history["items"]
    assert [e["eventType"] for e in (deleted, action, changed)] == [
        "USER_RECORD_DELETED", "USER_ACTION_PERFORMED", "USER_RECORD_CHANGED"]
    assert changed["oldRecord"] == {
        "notes": {"json": "modified notes", "text": "{notes:modified notes}"},
        "lastUpdate": {"json": 1485012900000, "text": "{lastUpdate:1485012900000}"}}
    assert changed["newRecord"] == {
        "notes": {"json": "first", "text": "{notes:first}"},
        "lastUpdate": {"json": 1500000000000, "text": "{lastUpdate:1500000000000}"}}
    assert action["contextPath"] == "entities.companies.actions.logSomething"
    assert action["newRecord"] == {"lastUpdate": {"json": 1600000000000,
                                                  "text": "{lastUpdate:1600000000000}"}}
    assert deleted["newRecord"] == {} and deleted["oldRecord"]["name"] == "Browsezoom"
    assert all(e["recordDeleted"] is True and e["deletionDate"] == 1600000000000
               for e in history["items"])
    assert {e["user"] for e in history["items"]} == {"user@test.com"}
    assert {e["ip"] for e in history["items"]} == {"::ffff:127.0.0.1"}


async def test_entity_history_filters_and_pages(user):
    emu, call = user
    for i in range(5):
        emu.clock = lambda i=i: 1700000000000 + i * 1000
        await call("POST", "/data/companies", json={"name": f"h{i}"})
    _, page = await call("GET", "/data/companies/history?_size=2")
    seen = [e["recordName"] for e in page["items"]]
    while page["offset"] is not None:
        _, page = await call("GET", f"/data/companies/history?_size=2"
                                         f"&_offset={page['offset']}")
        seen += [e["recordName"] for e in page["items"]]
    assert seen == ["h4", "h3", "h2", "h1", "h0"] and page["total"] == 5
    _, found = await call("GET", "/data/companies/history?from=1700000001000&to=1700000003000"
                                 "&eventTypes=USER_RECORD_CREATED")
    assert [e["recordName"] for e in found["items"]] == ["h3", "h2", "h1"]
    _, none = await call("GET", "/data/companies/history?eventTypes=USER_RECORD_DELETED")
    assert none == {"total": 0, "offset": None, "items": []}


@pytest.mark.parametrize("path, status, code", [
    ("/data/companies/history?eventTypes=NOPE", 400, "badRequest"),
    ("/data/companies/history?from=yesterday", 400, "badRequest"),
    ("/data/companies/history?_size=0", 400, "badRequest"),
    ("/data/companies/history?_offset=12", 400, "badRequest"),
    ("/data/companies/not-an-id/history", 400, "badRequest"),
    ("/data/ghosts/history", 404, "notFound"),
    ("/data/ghosts/588f8b99b45fc9000bc1bfc4/auditLogs", 404, "notFound"),
])
async def test_history_refuses_bad_requests(user, path, status, code):
    _, call = user
    got_status, body = await call("GET", path)
    assert (got_status, body["code"]) == (status, code)


async def test_logs_query_sample_replays_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"admin@example.com": "admin", "test@slingr.io": "x"},
                         companies=0, contacts=0)
    logs = emu.app_logs
    client = await aiohttp_client(emu.app)
    now = 1485950400000  # 2017-02-01 12:00 UTC: the sample's logs are from "yesterday"
    logs.clock = lambda: now
    admin = {"token": await slingr_login(client)}
    logs.clock = lambda: 1485863952895
    pin_id(logs.ids, "58907c10b45fc9000bc1c020")
    await slingr_login(client, "test@slingr.io", "x")  # the emulator logs the login itself
    # The UI's own call (an endpoint the emulator does not have), seeded like records are.
    logs.clock = lambda: 1485863961326
    logs.add("GET /api/users/current", user_email="test@slingr.io", ip="::ffff:10.240.0.16")
    for i in range(149):
        logs.clock = lambda i=i: 1485863970000 + i
        logs.add(f"later {i}", user_email="test@slingr.io")
    logs.clock = lambda: now
    logs.add("today", user_email="test@slingr.io")
    resp = await client.get(f"{API}/status/logs?period=yesterday&userEmail=test@slingr.io"
                            "&_size=2", headers=admin)
    await assert_exact(resp, LOGS_FOUND)
    resp = await client.get(f"{API}/status/logs?period=1h&message=TODAY", headers=admin)
    assert [e["message"] for e in (await resp.json())["items"]] == ["today"]


async def test_post_log_sample_replays_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"test@slingr.io": "x", "user@test.com": "abcdefgh"},
                         companies=0, contacts=0)
    client = await aiohttp_client(emu.app)
    token = {"token": await slingr_login(client, "test@slingr.io", "x")}
    emu.remote_ip = "10.240.0.15"
    emu.app_logs.clock = lambda: 1485866429630
    pin_id(emu.app_logs.ids, LOG_POSTED["id"])
    await assert_exact(await client.post(f"{API}/status/logs", json=LOG_BODY, headers=token),
                       LOG_POSTED)
    # The docs' validation error body for a log without message, exactly.
    resp = await client.post(f"{API}/status/logs", json={"level": "INFO"}, headers=token)
    await assert_exact(resp, {"code": "validationErrors", "message": "There are validation errors",
                              "errors": [{"field": "message", "fieldLabel": None,
                                          "code": "required", "message": "Message cannot be empty",
                                          "additionalInfo": None}]}, status=400)
    found = await (await client.get(f"{API}/status/logs?level=INFO", headers=token)).json()
    assert found["items"][-1] == LOG_POSTED
    # Logs are for developers only.
    other = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}
    for method in ("GET", "POST"):
        resp = await client.request(method, f"{API}/status/logs", json=LOG_BODY, headers=other)
        assert (resp.status, (await resp.json())["code"]) == (403, "forbidden")


async def test_rest_calls_leave_app_logs(user):
    emu, call = user
    _, created = await call("POST", "/data/companies", json={"name": "logged"})
    await call("GET", f"/data/companies/{created['id']}?_fields=name")
    await call("DELETE", f"/data/companies/{created['id']}")
    entries = list(emu.app_logs.entries)
    assert [(e["subType"], e["message"]) for e in entries] == [
        ("LOGIN", "POST /login"),
        ("REST_API_RECORD_CREATED", "POST /api/data/companies"),
        ("REST_API_RECORD_READ", f"GET /api/data/companies/{created['id']}?_fields=name"),
        ("REST_API_RECORD_DELETED", f"DELETE /api/data/companies/{created['id']}")]
    assert entries[0]["ip"] is None and entries[1]["ip"] == "::ffff:127.0.0.1"


@pytest.mark.parametrize("body, field, code", [
    ({"message": "m"}, "level", "required"),
    ({"level": "DEBUG", "message": "m"}, "level", "invalid"),
    ({"level": "INFO", "message": "m", "additionalInfo": [1]}, "additionalInfo", "invalid"),
])
async def test_post_log_validation(aiohttp_client, body, field, code):
    emu = SlingrEmulator(companies=0, contacts=0)
    client = await aiohttp_client(emu.app)
    token = {"token": await slingr_login(client)}
    resp = await client.post(f"{API}/status/logs", json=body, headers=token)
    got = await resp.json()
    assert resp.status == 400 and got["code"] == "validationErrors"
    assert [(e["field"], e["code"]) for e in got["errors"]] == [(field, code)]
