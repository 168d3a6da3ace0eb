"""Every write through the gateway drops its source's cached answers: after it, the next read
calls the backend and answers the new data. Single writes, /v1/bulk entries (alone and in a
native batch), files; failed writes too; and a write to one entity drops another's answers."""

from __future__ import annotations

from typing import Any

from tests.integration.cache.conftest import (
    ORG,
    Gateway,
    StartGateway,
    auth,
    cache_config,
    first_id,
    read,
    record_calls,
)

ACCOUNTS = "/v1/records/sugarcrm/Accounts"
CONTACTS = "/v1/records/sugarcrm/Contacts"


async def cached(gw: Gateway, sugar: Any, path: str) -> Any:
    """Read ``path`` until it is cached (the second read calls no backend); its answer."""
    await read(gw, path)
    calls = record_calls(sugar)
    body, _ = await read(gw, path)
    assert record_calls(sugar) == calls
    return body


async def read_calls_backend(gw: Gateway, sugar: Any, path: str) -> Any:
    calls = record_calls(sugar)
    body, _ = await read(gw, path)
    assert record_calls(sugar) > calls, f"{path} was answered from the cache"
    return body


async def bulk(gw: Gateway, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    resp = await gw.client.post(f"/v1/bulk?orgId={ORG}", json={"requests": requests},
                                headers=auth())
    assert resp.status == 200
    got: list[dict[str, Any]] = await resp.json()
    return got


async def test_update_create_and_delete_each_drop_the_cache(start_gateway: StartGateway,
                                                            sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    one, listing = f"{ACCOUNTS}/{rid}", f"{ACCOUNTS}?pageSize=1000&fields=name"
    await cached(gw, sugar, one)
    before = await cached(gw, sugar, listing)
    resp = await gw.client.patch(f"{one}?orgId={ORG}", json={"name": "Patched"}, headers=auth())
    assert resp.status == 200
    assert (await read_calls_backend(gw, sugar, one))["data"]["name"] == "Patched"
    assert {"id": rid, "name": "Patched"} in (await read_calls_backend(gw, sugar, listing))["data"]

    await cached(gw, sugar, listing)
    resp = await gw.client.post(f"{ACCOUNTS}?orgId={ORG}", json={"name": "Created"},
                                headers=auth())
    assert resp.status == 201
    new_id = (await resp.json())["data"]["id"]
    after = await read_calls_backend(gw, sugar, listing)
    assert after["pagination"]["totalSize"] == before["pagination"]["totalSize"] + 1

    await cached(gw, sugar, f"{ACCOUNTS}/{new_id}")
    resp = await gw.client.delete(f"{ACCOUNTS}/{new_id}?orgId={ORG}", headers=auth())
    assert resp.status == 200
    calls = record_calls(sugar)
    await read(gw, f"{ACCOUNTS}/{new_id}", status=404)
    assert record_calls(sugar) > calls


async def test_put_drops_the_cache_too(start_gateway: StartGateway, sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    one = f"{ACCOUNTS}/{first_id(sugar)}"
    await cached(gw, sugar, one)
    resp = await gw.client.put(f"{one}?orgId={ORG}", json={"industry": "Banking"},
                               headers=auth())
    assert resp.status == 200
    assert (await read_calls_backend(gw, sugar, one))["data"]["industry"] == "Banking"


async def test_a_write_to_one_entity_drops_another_entitys_answers(start_gateway: StartGateway,
                                                                   sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    contact = next(c for c in sugar.emulator.store.all("Contacts") if c.get("account_id"))
    path = f"{CONTACTS}/{contact['id']}?fields=account_name"
    await cached(gw, sugar, path)
    # Sugar copies the account's name into the contact's account_name (a relate field).
    resp = await gw.client.patch(f"{ACCOUNTS}/{contact['account_id']}?orgId={ORG}",
                                 json={"name": "Renamed Account"}, headers=auth())
    assert resp.status == 200
    body = await read_calls_backend(gw, sugar, path)
    assert body["data"]["account_name"] == "Renamed Account"


async def test_a_failed_write_drops_the_cache(start_gateway: StartGateway, sugar: Any) -> None:
    gw = await start_gateway(cache_config(), source={"retries": 0})
    rid = first_id(sugar)
    one = f"{ACCOUNTS}/{rid}"
    await cached(gw, sugar, one)
    # Sugar applies the update, then the connection drops before its answer: the gateway
    # cannot tell whether it was written, so what it kept may be stale.
    sugar.emulator.faults.drop(after_processing=True, method="PUT",
                               path=f"/rest/v10/Accounts/{rid}")
    resp = await gw.client.patch(f"{one}?orgId={ORG}", json={"name": "Maybe Written"},
                                 headers=auth())
    assert resp.status >= 500, await resp.text()
    assert (await read_calls_backend(gw, sugar, one))["data"]["name"] == "Maybe Written"
    # Refused by the backend, nothing written: still dropped (one rule for every failure).
    await cached(gw, sugar, one)
    sugar.emulator.faults.fail(500, method="PUT", path=f"/rest/v10/Accounts/{rid}")
    resp = await gw.client.patch(f"{one}?orgId={ORG}", json={"name": "Refused"},
                                 headers=auth())
    assert resp.status == 502
    assert (await read_calls_backend(gw, sugar, one))["data"]["name"] == "Maybe Written"


async def test_a_write_refused_before_it_is_sent_keeps_the_cache(start_gateway: StartGateway,
                                                                 sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    one = f"{ACCOUNTS}/{first_id(sugar)}"
    await cached(gw, sugar, one)
    resp = await gw.client.patch(f"{one}?orgId={ORG}", json={"no_such_field": 1},
                                 headers=auth())
    assert resp.status == 400
    calls = record_calls(sugar)
    await read(gw, one)
    assert record_calls(sugar) == calls
    assert gw.sample("gateway_cache_invalidations_total", source="sugarcrm",
                     origin="local") == 0


async def test_bulk_entries_alone_drop_the_cache(start_gateway: StartGateway,
                                                 sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    one = f"{ACCOUNTS}/{rid}"
    await cached(gw, sugar, one)
    got = await bulk(gw, [{"url": one, "method": "PATCH", "data": {"name": "Bulk Patched"}}])
    assert [e["status"] for e in got] == [200]
    assert (await read_calls_backend(gw, sugar, one))["data"]["name"] == "Bulk Patched"
    # A write and then a read of the same record in one bulk call: the read sees the write
    # (and keeps its answer, read after the write).
    got = await bulk(gw, [
        {"url": f"{one}?orgId={ORG}", "method": "PATCH", "data": {"name": "Patched Again"}},
        {"url": f"{one}?orgId={ORG}"},
    ])
    assert [e["status"] for e in got] == [200, 200]
    assert got[1]["contents"]["data"]["name"] == "Patched Again"
    assert (await cached(gw, sugar, one))["data"]["name"] == "Patched Again"


async def test_a_native_batch_drops_the_cache(start_gateway: StartGateway, sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    ids = sorted(r["id"] for r in sugar.emulator.store.all("Accounts"))[:3]
    listing = f"{ACCOUNTS}?pageSize=1000&fields=name"
    for rid in ids:
        await cached(gw, sugar, f"{ACCOUNTS}/{rid}")
    await cached(gw, sugar, listing)
    batches = sugar.emulator.calls("POST", "/rest/v10/bulk")
    got = await bulk(gw, [
        {"url": f"{ACCOUNTS}/{ids[0]}", "method": "PATCH", "data": {"name": "Batch 0"}},
        {"url": f"{ACCOUNTS}/{ids[1]}", "method": "PATCH", "data": {"name": "Batch 1"}},
        {"url": f"{ACCOUNTS}/{ids[2]}", "method": "DELETE"},
        {"url": ACCOUNTS, "method": "POST", "data": {"name": "Batch New"}},
    ])
    assert [e["status"] for e in got] == [200, 200, 200, 201]
    assert sugar.emulator.calls("POST", "/rest/v10/bulk") == batches + 1  # one native call
    for rid, name in zip(ids[:2], ("Batch 0", "Batch 1"), strict=True):
        assert (await read_calls_backend(gw, sugar, f"{ACCOUNTS}/{rid}"))["data"]["name"] == name
    await read(gw, f"{ACCOUNTS}/{ids[2]}", status=404)
    names = {r["name"] for r in (await read_calls_backend(gw, sugar, listing))["data"]}
    assert "Batch New" in names and "Batch 0" in names
    # One drop for each entry of the batch, none for the reads.
    assert gw.sample("gateway_cache_invalidations_total", source="sugarcrm",
                     origin="local") == 4


async def test_a_failed_entry_of_a_native_batch_drops_the_cache(start_gateway: StartGateway,
                                                                sugar: Any) -> None:
    gw = await start_gateway(cache_config(), source={"retries": 0})
    rid = first_id(sugar)
    one = f"{ACCOUNTS}/{rid}"
    await cached(gw, sugar, one)
    sugar.emulator.faults.drop(after_processing=True, method="POST", path="/rest/v10/bulk")
    got = await bulk(gw, [
        {"url": one, "method": "PATCH", "data": {"name": "Lost Answer"}},
        {"url": ACCOUNTS, "method": "POST", "data": {"name": "Lost Answer Too"}},
    ])
    assert all(e["status"] >= 500 for e in got), got
    assert (await read_calls_backend(gw, sugar, one))["data"]["name"] == "Lost Answer"


async def test_file_put_and_delete_drop_the_cache(start_gateway: StartGateway,
                                                  sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    contact = first_id(sugar, "Contacts")
    one = f"{CONTACTS}/{contact}?fields=picture"
    before = await cached(gw, sugar, one)
    files = f"{CONTACTS}/{contact}/files/picture?orgId={ORG}"
    resp = await gw.client.put(files + "&filename=me.png", data=b"\x89PNG\r\n\x1a\nnot-really",
                               headers=auth(**{"Content-Type": "image/png"}))
    assert resp.status == 200, await resp.text()
    stored = (await read_calls_backend(gw, sugar, one))["data"]["picture"]
    assert stored and stored != before["data"]["picture"]
    await cached(gw, sugar, one)
    resp = await gw.client.delete(files, headers=auth())
    assert resp.status == 200, await resp.text()
    assert not (await read_calls_backend(gw, sugar, one))["data"]["picture"]


async def test_file_reads_leave_the_cache_alone(start_gateway: StartGateway, sugar: Any) -> None:
    gw = await start_gateway(cache_config())
    contact = first_id(sugar, "Contacts")
    one = f"{CONTACTS}/{contact}"
    await cached(gw, sugar, one)
    resp = await gw.client.get(f"{one}/files/picture?orgId={ORG}", headers=auth())
    await resp.read()
    calls = record_calls(sugar)
    await read(gw, one)
    assert record_calls(sugar) == calls
