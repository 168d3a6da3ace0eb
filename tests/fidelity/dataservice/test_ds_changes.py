"""Data Service emulator: what a change feed reads (docs/changes-design.md §4), over real HTTP.

UpdateTime from the service clock at the millisecond shown, ties included (nothing documents
uniqueness); the `Date` header from that clock; stamp-then-commit for single and batch writes;
hard deletes that leave nothing to list."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from tests.fidelity.dataservice.conftest import flt

E = "/EntityService/Olympics"
T0 = datetime(2024, 5, 1, 12, 0, 0, 123_456, tzinfo=UTC)
SHOWN = "2024-05-01T12:00:00.123Z"


def pin(ds, moment: datetime) -> list[datetime]:
    now = [moment]
    ds.clock = lambda: now[0]
    return now


async def query(api, filters, sort=(("Id", False),), limit=50):
    status, body = await api("POST", f"{E}/query", json={
        "filterGroup": {"logicalOperator": 0, "queryFilters": filters},
        "sortOptions": [{"fieldName": f, "isDescending": d} for f, d in sort],
        "start": 0, "limit": limit, "selectedFields": ["Id", "UpdateTime"]})
    assert status == 200, body
    return body


async def test_writes_in_one_millisecond_share_update_time(api, ds):
    now = pin(ds, T0)
    made = [(await api("POST", f"{E}/insert", json={"Name": f"Games {i}"}))[1] for i in range(3)]
    _, upd = await api("POST", f"{E}/update/{made[0]['Id']}", json={"Nations": 7})
    assert {m["UpdateTime"] for m in made} | {upd["UpdateTime"]} == {SHOWN}
    assert {m["CreateTime"] for m in made} == {SHOWN}
    # Phase B of the bucket walk: one millisecond, Id after the last one, in Id order.
    bucket = [flt("UpdateTime", ">=", SHOWN), flt("UpdateTime", "<", "2024-05-01T12:00:00.124Z")]
    walk = [r["Id"] for r in (await query(api, bucket))["value"]]
    assert sorted(walk) == sorted(m["Id"] for m in made)
    rest = await query(api, [*bucket, flt("Id", ">", walk[0])])
    assert [r["Id"] for r in rest["value"]] == walk[1:]
    now[0] = T0 + timedelta(milliseconds=1)
    _, later = await api("POST", f"{E}/update/{made[1]['Id']}", json={"Nations": 8})
    assert later["UpdateTime"] == "2024-05-01T12:00:00.124Z"


async def test_date_header_is_the_service_clock(api, ds, raw_client):
    pin(ds, T0)
    for resp in (await raw_client.get(f"/acme/DefaultTenant/datafabric_/api{E}/read"),
                 await raw_client.post("/identity_/connect/token", data={})):
        assert parsedate_to_datetime(resp.headers["Date"]) == T0.replace(microsecond=0)


async def test_a_write_is_stamped_on_arrival_and_visible_when_it_commits(api, ds):
    now = pin(ds, T0)
    arrived, release = asyncio.Event(), asyncio.Event()
    held: list[tuple[str, str]] = []

    def delay(method: str, path: str):
        held.append((method, path))
        arrived.set()
        return release.wait()

    ds.commit_delay = delay
    batch = asyncio.create_task(api("POST", f"{E}/insert-batch", json=[
        {"Name": "Held A"}, {"Name": "Held B"}]))
    await arrived.wait()
    ds.commit_delay = None
    now[0] = T0 + timedelta(seconds=20)  # a reader runs while the batch is in flight
    held_names = [flt("Name", "in", value_list=["Held A", "Held B"])]
    assert (await query(api, held_names))["totalRecordCount"] == 0
    release.set()
    status, body = await batch
    assert status == 200 and len(body["successRecords"]) == 2
    rows = (await query(api, held_names))["value"]
    assert [r["UpdateTime"] for r in rows] == [SHOWN, SHOWN]  # older than the read above
    assert held == [("POST", f"/acme/DefaultTenant/datafabric_/api{E}/insert-batch")]


async def test_deletes_are_hard_and_leave_nothing_to_list(api, ds):
    before = (await query(api, [], limit=1))["totalRecordCount"]
    rid = ds.store.all("Olympics")[0]["Id"]
    assert await api("DELETE", f"{E}/delete/{rid}") == (200, True)
    after = await query(api, [], limit=1)
    assert after["totalRecordCount"] == before - 1
    assert (await query(api, [flt("Id", "=", rid)]))["value"] == []
    assert ds.store.get("Olympics", rid) is None
