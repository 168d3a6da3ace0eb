"""Sugar emulator: what a change feed reads (docs/changes-design.md §2), over real HTTP.

Whole-second date_modified from the server clock with ties (SugarBean::setModifiedDate),
GET /ping/whattimeisit (PingApi), soft-deleted rows under deleted=true (FilterApi,
SugarBeanApiHelper), stamp-then-commit (SugarBean::save stamps before it writes), and the prune
job / Data Archiver hard delete knobs."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from tests.fidelity.conftest import API

T0 = datetime(2024, 5, 1, 12, 0, 0)


def pin(sugar, moment: datetime) -> list[datetime]:
    now = [moment]
    sugar.clock = lambda: now[0]
    return now


async def test_saves_in_one_second_share_date_modified(api, sugar):
    now = pin(sugar, T0 + timedelta(microseconds=700_000))  # stamps drop the fraction
    stamps = []
    for name in ("A", "B", "C"):
        _, rec = await api("POST", "/Accounts", json={"name": name})
        stamps.append(rec["date_modified"])
    _, upd = await api("PUT", f"/Accounts/{rec['id']}", json={"industry": "Energy"})
    _, upd2 = await api("PUT", f"/Accounts/{rec['id']}", json={"industry": "Retail"})
    assert set(stamps) | {upd["date_modified"], upd2["date_modified"]} == {
        "2024-05-01T12:00:00+00:00"}  # never pushed into the future
    now[0] = T0 + timedelta(seconds=3)
    _, upd3 = await api("PUT", f"/Accounts/{rec['id']}", json={"industry": "Banking"})
    assert upd3["date_modified"] == "2024-05-01T12:00:03+00:00"
    # The bucket walk's Phase B: one second, ids after the last one, id order.
    ids = sorted(r["id"] for r in (await api("GET", "/Accounts", params={
        "filter[0][date_modified][$gte]": "2024-05-01T12:00:00+00:00",
        "filter[1][date_modified][$lt]": "2024-05-01T12:00:01+00:00",
        "order_by": "id:asc", "fields": "id"}))[1]["records"])
    assert len(ids) == 2
    _, page = await api("POST", "/Accounts/filter", json={
        "filter": [{"date_modified": {"$gte": "2024-05-01T12:00:00+00:00"}},
                   {"date_modified": {"$lt": "2024-05-01T12:00:01+00:00"}},
                   {"id": {"$gt": ids[0]}}],
        "order_by": "id:asc", "max_num": 5, "fields": "id"})
    assert [r["id"] for r in page["records"]] == ids[1:]


async def test_whattimeisit_and_date_header_read_the_server_clock(api, sugar, raw_client):
    pin(sugar, T0 + timedelta(microseconds=250_000))
    assert await api("GET", "/ping/whattimeisit") == (200, "2024-05-01T12:00:00+00:00")
    resp = await raw_client.get(f"{API}/ping/whattimeisit")
    assert resp.status == 401  # a token, as every route but the token endpoint
    assert (await resp.json())["error"] == "need_login"
    assert parsedate_to_datetime(resp.headers["Date"]).replace(tzinfo=None) == T0


async def test_deleted_rows_are_listed_as_stubs_and_filter_on_deletion_time(api, sugar):
    now = pin(sugar, T0)
    _, keep = await api("POST", "/Contacts", json={"last_name": "Keep"})
    _, gone = await api("POST", "/Contacts", json={"last_name": "Gone"})
    now[0] = T0 + timedelta(seconds=5)
    assert await api("DELETE", f"/Contacts/{gone['id']}") == (200, {"id": gone["id"]})
    lane = {"deleted": "true", "order_by": "id:asc", "fields": "id",
            "filter": [{"deleted": {"$equals": 1}},
                       {"date_modified": {"$gt": "2024-05-01T12:00:04+00:00"}},
                       {"date_modified": {"$lte": "2024-05-01T12:00:05+00:00"}}]}
    assert (await api("POST", "/Contacts/filter", json=lane))[1]["records"] == [
        {"id": gone["id"], "deleted": True}]  # no date_modified, no _acl
    before = {**lane, "filter": [{"deleted": {"$equals": 1}},
                                 {"date_modified": {"$lte": "2024-05-01T12:00:04+00:00"}}]}
    assert (await api("POST", "/Contacts/filter", json=before))[1]["records"] == []
    _, live = await api("POST", "/Contacts/filter", json={
        "filter": [{"id": {"$in": [keep["id"], gone["id"]]}}], "fields": "id"})
    assert [r["id"] for r in live["records"]] == [keep["id"]]  # no deleted argument: live only
    _, count = await api("POST", "/Contacts/filter/count", json={
        "deleted": "true", "filter": [{"deleted": 1}]})
    assert count["record_count"] == 1


async def test_prune_and_hard_delete_leave_no_trace(api, sugar):
    _, a = await api("POST", "/Accounts", json={"name": "Pruned"})
    _, b = await api("POST", "/Accounts", json={"name": "Archived"})
    await api("DELETE", f"/Accounts/{a['id']}")
    deleted = {"deleted": "true", "filter": [{"deleted": 1}]}
    assert (await api("POST", "/Accounts/filter/count", json=deleted))[1]["record_count"] == 1
    assert sugar.prune_deleted() == [a["id"]]
    assert (await api("POST", "/Accounts/filter/count", json=deleted))[1]["record_count"] == 0
    assert sugar.hard_delete("Accounts", [b["id"], "nope"]) == [b["id"]]
    assert (await api("GET", f"/Accounts/{b['id']}"))[0] == 404
    assert (await api("POST", "/Accounts/filter/count", json=deleted))[1]["record_count"] == 0


async def test_a_write_is_stamped_on_arrival_and_visible_when_it_commits(api, sugar):
    now = pin(sugar, T0)
    _, rec = await api("POST", "/Accounts", json={"name": "Slow save"})
    arrived, release = asyncio.Event(), asyncio.Event()
    held: list[tuple[str, str]] = []

    def delay(method: str, path: str):
        held.append((method, path))
        arrived.set()
        return release.wait()

    sugar.commit_delay = delay
    save = asyncio.create_task(api("PUT", f"/Accounts/{rec['id']}", json={"industry": "Energy"}))
    await arrived.wait()
    sugar.commit_delay = None
    now[0] = T0 + timedelta(seconds=30)  # a reader runs while the save is in flight
    _, seen = await api("GET", f"/Accounts/{rec['id']}")
    assert seen["industry"] is None and seen["date_modified"] == "2024-05-01T12:00:00+00:00"
    _, newer = await api("POST", "/Accounts/filter", json={
        "filter": [{"industry": "Energy"}, {"id": rec["id"]}]})
    assert newer["records"] == []
    release.set()
    status, saved = await save
    assert status == 200 and saved["industry"] == "Energy"
    assert saved["date_modified"] == "2024-05-01T12:00:00+00:00"  # older than the read above
    assert held == [("PUT", f"{API}/Accounts/{rec['id']}")]
    # Reads are never held; a number of seconds works as well as an awaitable.
    sugar.commit_delay = lambda method, path: 0.01
    _, quick = await api("DELETE", f"/Accounts/{rec['id']}")
    assert quick == {"id": rec["id"]}
