"""Slingr emulator: what a change feed reads (docs/changes-design.md §3), over real HTTP.

A date record modified field (companies.lastUpdate) set on create and every save, never written,
queried in epoch ms [SD-DRM]; the `Date` header from the emulator's clock; stamp-then-commit;
shuffled `_sortField` ties; deletes in the entity's audit logs [SD-API § Audit logs]."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime

T0 = 1714564800123  # 2024-05-01T12:00:00.123Z


def pin(slingr, ms: int) -> list[int]:
    now = [ms]
    slingr.clock = lambda: now[0]
    return now


async def test_date_record_modified_is_set_on_every_save_and_never_written(api, slingr):
    now = pin(slingr, T0)
    _, made = await api("POST", "/data/companies", json={"name": "Stamped",
                                                        "lastUpdate": 5})
    assert made["lastUpdate"] == T0  # the write of the field is ignored
    now[0] = T0 + 7
    _, upd = await api("PUT", f"/data/companies/{made['id']}", json={"lastUpdate": 1,
                                                                     "notes": "x"})
    assert upd["lastUpdate"] == T0 + 7 and upd["version"] == made["version"] + 1
    now[0] = T0 + 9
    _, same = await api("PUT", f"/data/companies/{made['id']}/logSomething",
                        json={"param1": "a", "param2": "b"})
    assert same["lastUpdate"] == T0 + 9  # an action that saves the record moves it too
    for query, hit in ((f"lastUpdate={T0 + 9}", True), (f"lastUpdate=greater({T0 + 9})", False),
                       (f"lastUpdate=between({T0},{T0 + 9})", True),
                       (f"lastUpdate=greaterOrEquals({T0 + 9})", True)):
        _, page = await api("GET", f"/data/companies?{query}&_fields=name")
        assert ([r["id"] for r in page["items"]] == [made["id"]]) is hit, query
    status, body = await api("GET", "/data/companies?lastUpdate=like(1)")
    assert status == 400 and body["code"] == "badRequest"


async def test_saves_in_one_millisecond_share_the_stamp_and_walk_by_id(api, slingr):
    pin(slingr, T0)
    ids = [(await api("POST", "/data/companies", json={"name": f"Tie {i}"}))[1]["id"]
           for i in range(4)]
    _, page = await api("GET", f"/data/companies?lastUpdate={T0}&_sortField=id&_sortType=asc"
                               f"&_offset={min(ids)}&_size=10&_fields=name")
    assert [r["id"] for r in page["items"]] == sorted(ids)[1:]


async def test_shuffled_ties_keep_the_sort_but_not_the_id_order(api, slingr):
    pin(slingr, T0)
    ids = [(await api("POST", "/data/companies", json={"name": f"Tie {i}"}))[1]["id"]
           for i in range(12)]
    url = f"/data/companies?lastUpdate={T0}&_sortField=lastUpdate&_sortType=asc&_size=50"
    assert [r["id"] for r in (await api("GET", url))[1]["items"]] == sorted(ids)  # default
    orders = set()
    for seed in (1, 2):
        slingr.shuffle_ties = seed
        got = [r["id"] for r in (await api("GET", url))[1]["items"]]
        assert sorted(got) == sorted(ids) and got == [r["id"] for r in (await api("GET", url))[
            1]["items"]]  # stable for one seed
        orders.add(tuple(got))
    assert tuple(sorted(ids)) not in orders and len(orders) == 2
    _, rest = await api("GET", "/data/companies?_sortField=numberOfEmployees&_size=1000")
    values = [r.get("numberOfEmployees") for r in rest["items"]]
    assert values == sorted(values, key=lambda v: (v is not None, v or 0))  # still sorted


async def test_date_header_is_the_clock_the_answer_was_stamped_with(api, slingr, raw_client):
    now = pin(slingr, T0)
    resp = await raw_client.post("/dev/runtime/api/auth/login",
                                 json={"email": "admin@example.com", "password": "admin"})
    token = (await resp.json())["token"]
    await api("POST", "/data/companies", json={"name": "Dated"})
    now[0] = T0 + 60_000
    resp = await raw_client.post("/dev/runtime/api/data/companies", json={"name": "Dated 2"},
                                 headers={"token": token})
    assert (await resp.json())["lastUpdate"] == T0 + 60_000
    assert parsedate_to_datetime(resp.headers["Date"]).timestamp() == (T0 + 60_000) // 1000
    resp = await raw_client.get("/dev/runtime/api/data/companies?_size=1",
                                headers={"token": token})
    assert parsedate_to_datetime(resp.headers["Date"]).timestamp() == (T0 + 60_000) // 1000


async def test_a_write_is_stamped_on_arrival_and_visible_when_it_commits(api, slingr):
    now = pin(slingr, T0)
    arrived, release = asyncio.Event(), asyncio.Event()

    def delay(method: str, path: str):
        arrived.set()
        return release.wait()

    slingr.commit_delay = delay
    save = asyncio.create_task(api("POST", "/data/companies", json={"name": "Held"}))
    await arrived.wait()
    slingr.commit_delay = None
    now[0] = T0 + 20_000  # a reader runs while the save is in flight
    assert (await api("GET", "/data/companies?name=Held"))[1]["total"] == 0
    release.set()
    status, made = await save
    assert status == 200 and made["lastUpdate"] == T0  # older than the read above
    assert (await api("GET", "/data/companies?name=Held"))[1]["total"] == 1


async def test_deletes_are_in_the_entity_audit_logs(api, slingr):
    now = pin(slingr, T0)
    _, made = await api("POST", "/data/companies", json={"name": "Doomed"})
    now[0] = T0 + 5_000
    status, _ = await api("DELETE", f"/data/companies/{made['id']}")
    assert status == 200
    _, logs = await api("GET", "/data/companies/auditLogs?eventTypes=USER_RECORD_DELETED"
                               f"&from={T0 + 5_000}&to={T0 + 5_000}&_size=1000")
    assert [(e["recordId"], e["eventType"], e["timestamp"]) for e in logs["items"]] == [
        (made["id"], "USER_RECORD_DELETED", T0 + 5_000)]
    _, before = await api("GET", "/data/companies/auditLogs?eventTypes=USER_RECORD_DELETED"
                                 f"&to={T0 + 4_999}")
    assert before["items"] == []
