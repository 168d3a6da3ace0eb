"""Tokens, writes, batches, files and faults against the emulator."""

import asyncio

import pytest
from ds_live import API, TOKEN_PATH

from gateway.connector import PushedQuery
from gateway.errors import BackendAuthFailed, BackendFailure, Conflict, InvalidRequest, NotFound


async def test_token_is_form_encoded_client_credentials_and_renewed_on_expiry(ds, emu):
    await ds.query(await ds.describe("Olympics"), PushedQuery(), 0, 1)
    emu.expire_tokens()
    page = await ds.query(await ds.describe("Olympics"), PushedQuery(), 0, 3)
    assert len(page.records) == 3
    assert emu.calls("POST", TOKEN_PATH) == 2
    bodies = [str(c.body) for c in emu.log if c.path == TOKEN_PATH]
    assert all("grant_type=client_credentials" in b for b in bodies), bodies


async def test_twenty_calls_on_an_expired_token_cost_one_token_call(ds, emu):
    await ds.query(await ds.describe("Olympics"), PushedQuery(), 0, 1)
    before = emu.calls("POST", TOKEN_PATH)
    emu.expire_tokens()
    info = await ds.describe("Olympics")  # cached: no call
    pages = await asyncio.gather(*(ds.query(info, PushedQuery(), i, 3) for i in range(20)))
    assert all(len(p.records) == 3 for p in pages)
    assert emu.calls("POST", TOKEN_PATH) - before == 1


async def test_refused_client_credentials_are_backend_auth_failed(make):
    conn = make(secret="wrong-secret")
    with pytest.raises(BackendAuthFailed) as info:
        await conn.query(await conn.describe("Olympics"), PushedQuery(), 0, 1)
    err = info.value
    assert (err.status, err.error) == (502, "backend_auth_failed")
    assert "wrong-secret" not in err.msg and err.source.name == "robots"


async def test_create_update_delete_with_id(ds, emu):
    created = await ds.create("Olympics", {"Name": "Brisbane 2032", "Nations": 210})
    rid = created["id"]
    assert rid and "Id" not in created and created["Name"] == "Brisbane 2032"
    updated = await ds.update("Olympics", rid, {"id": rid, "Nations": 211}, None)
    assert updated["Nations"] == 211 and updated["Name"] == "Brisbane 2032"
    with pytest.raises(Conflict):
        await ds.update("Olympics", rid, {"Nations": 1}, "2000-01-01T00:00:00Z")
    again = await ds.update("Olympics", rid, {"Nations": 212}, updated["UpdateTime"])
    assert again["Nations"] == 212
    await ds.delete("Olympics", rid)
    with pytest.raises(NotFound) as info:
        await ds.get("Olympics", rid, None)
    assert info.value.source.status == 404 and info.value.key == "record_not_found"


async def test_unknown_entity_and_invalid_record(ds):
    with pytest.raises(NotFound) as info:
        await ds.describe("NoSuchEntity")
    assert info.value.key == "unknown_entity"
    with pytest.raises(InvalidRequest) as bad:
        await ds.create("Olympics", {"Nations": 3})  # Name is required
    assert bad.value.source.status == 400


async def test_a_dropped_write_answer_is_not_repeated(ds, emu):
    await ds.describe("Olympics")
    before = len(emu.store.all("Olympics"))
    emu.faults.drop(times=1, after_processing=True, method="POST",
                    path=f"{API}/EntityService/Olympics/insert")
    with pytest.raises(BackendFailure):
        await ds.create("Olympics", {"Name": "Lost answer"})
    assert len(emu.store.all("Olympics")) == before + 1


@pytest.mark.parametrize("status", [200, 400])
async def test_insert_batch_partial_failure(ds, emu, status):
    emu.batch_failure_status = status
    out = await ds.insert_batch("Olympics", [{"Name": "A"}, {"Nations": 1}, {"Name": "C"}])
    assert [o.status for o in out] == ["ok", "failed", "ok"]
    assert out[0].record["id"] and out[1].error


async def test_fail_on_first_stops_the_batch(ds, emu):
    before = len(emu.store.all("Olympics"))
    out = await ds.insert_batch("Olympics", [{"Name": "A"}, {"Nations": 1}, {"Name": "C"}],
                                fail_on_first=True)
    assert [o.status for o in out] == ["ok", "failed", "not_executed"]
    assert len(emu.store.all("Olympics")) == before + 1


async def test_update_and_delete_batches(ds, emu):
    ids = [r["Id"] for r in emu.store.all("Olympics")[:2]]
    missing = "00000000-0000-4000-8000-000000000000"
    upd = await ds.update_batch("Olympics", [{"id": ids[0], "Nations": 7},
                                             {"id": missing, "Nations": 8}])
    assert [o.status for o in upd] == ["ok", "failed"] and upd[0].record["Nations"] == 7
    gone = await ds.delete_batch("Olympics", [ids[1], missing])
    assert [o.status for o in gone] == ["ok", "failed"]


async def test_files_upload_download_delete_streamed(ds, emu):
    rid = emu.store.all("Olympics")[0]["Id"]
    payload = b"\x89PNG" + bytes(range(256)) * 1000

    async def chunks():
        for i in range(0, len(payload), 10_000):
            yield payload[i:i + 10_000]

    info = await ds.put_file("Olympics", rid, "Logo", filename="logo.png",
                             content_type="image/png", chunks=chunks(), size=len(payload))
    assert info.filename == "logo.png"
    async with ds.open_file("Olympics", rid, "Logo") as download:
        got = b"".join([c async for c in download.chunks])
        assert download.info.content_type == "image/png"
    assert got == payload
    await ds.delete_file("Olympics", rid, "Logo")
    with pytest.raises(NotFound):
        async with ds.open_file("Olympics", rid, "Logo"):
            pass
