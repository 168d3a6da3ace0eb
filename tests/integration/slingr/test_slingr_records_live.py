"""Auth, writes, locking, delete many, files and error mapping against the Slingr emulator."""

import asyncio

import orjson
import pytest

from gateway.connector import PushedQuery
from gateway.errors import (
    BackendAuthFailed,
    BackendFailure,
    BackendUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
)

E = "companies"
LOGIN = "/auth/login"


async def test_twenty_calls_after_expiry_cost_exactly_one_login(app, emu):
    await app.count(await app.describe(E), ())
    emu.expire_tokens()
    before = emu.calls("POST", LOGIN)
    info = await app.describe(E)  # cached: no call
    pages = await asyncio.gather(*(app.query(info, PushedQuery(), n, 3) for n in range(20)))
    assert all(len(p.records) == 3 for p in pages)
    assert emu.calls("POST", LOGIN) - before == 1


async def test_login_sends_the_impersonated_user(make, emu):
    conn = make(auth={"email": "admin@example.com", "password": "admin",
                      "emailImpersonatedUser": "nobody@example.com"})
    with pytest.raises(BackendAuthFailed):  # Slingr: 404 notFound for an unknown user
        await conn.check()
    assert emu.log[-1].body["emailImpersonatedUser"] == "nobody@example.com"


async def test_refused_credentials_are_backend_auth_failed(make):
    conn = make(password="wrong")
    with pytest.raises(BackendAuthFailed) as info:
        await conn.count(await conn.describe(E), ())
    assert info.value.source.status == 401 and "wrong" not in str(info.value)


async def test_maintenance_is_backend_unavailable_with_a_wait(app, emu):
    await app.count(await app.describe(E), ())
    emu.faults.maintenance(True)
    with pytest.raises(BackendUnavailable) as info:
        await app.count(await app.describe(E), ())
    assert info.value.source.error == "applicationUnavailable" and info.value.retry_after


async def test_create_update_with_version_and_conflict(app):
    made = await app.create(E, {"name": "Locking Co", "type": "a"})
    assert made["version"] == 0 and made["label"] == "Locking Co"
    upd = await app.update(E, made["id"], {"notes": "first"}, "0")
    assert upd["version"] == 1 and upd["name"] == "Locking Co"
    with pytest.raises(Conflict) as info:
        await app.update(E, made["id"], {"notes": "stale"}, "0")
    assert info.value.source.status == 409
    with pytest.raises(InvalidRequest):
        await app.update(E, made["id"], {"notes": "x"}, "not-a-number")


async def test_validation_errors_become_details(app):
    with pytest.raises(InvalidRequest) as info:
        await app.create(E, {"type": "zzz"})
    paths = {d.path for d in info.value.details}
    assert {"name", "type"} <= paths and info.value.source.error == "validationErrors"


async def test_unknown_record_and_entity_are_not_found(app, make):
    with pytest.raises(NotFound, match="Record"):
        await app.get(E, "5685c1803b063a0007600000", None)
    with pytest.raises(NotFound, match="nosuch"):
        await make(typed=False).describe("nosuch")


async def test_a_write_whose_answer_is_lost_is_not_repeated(app, emu):
    await app.count(await app.describe(E), ())
    before = len(emu.store.all(E))
    emu.faults.drop(times=1, after_processing=True, method="POST",
                    path=f"{emu.base}/data/{E}")
    with pytest.raises(BackendFailure):
        await app.create(E, {"name": "Once Only"})
    assert len(emu.store.all(E)) == before + 1
    assert emu.calls("POST", f"/data/{E}") == 1


async def test_delete_many_reports_each_id(app, emu):
    ids = [r["id"] for r in emu.store.all(E)[:3]]
    missing = "5685c1803b063a0007600000"
    got = await app.delete_many(E, [*ids, missing])
    assert [got[i] for i in ids] == [None, None, None]
    assert isinstance(got[missing], NotFound)
    assert not {r["id"] for r in emu.store.all(E)} & set(ids)
    assert emu.calls("DELETE", f"/data/{E}/{','.join([*ids, missing])}") == 1


async def test_delete_many_as_a_job(app, emu):
    ids = [r["id"] for r in emu.store.all(E)[:2]]
    job = await app.delete_many_job(E, ids)
    assert len(job) == 24


async def _stream(data: bytes, size: int = 1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def test_files_upload_download_delete(app, emu):
    rid = emu.store.all(E)[0]["id"]
    data = bytes(range(256)) * 700
    info = await app.put_file(E, rid, "logo", filename="logo.png", content_type="image/png",
                              chunks=_stream(data), size=len(data))
    assert info.filename == "logo.png"
    assert emu.calls("POST", "/files") == 1
    async with app.open_file(E, rid, "logo") as download:
        got = b"".join([c async for c in download.chunks])
        assert download.info.filename == "logo.png"
        assert download.info.content_type == "image/png"
    assert got == data
    await app.delete_file(E, rid, "logo")
    assert (await app.get(E, rid, ("logo",))).get("logo") is None
    with pytest.raises(NotFound):
        async with app.open_file(E, rid, "logo"):
            pass
    with pytest.raises(NotFound):
        await app.delete_file(E, rid, "logo")


async def test_a_delete_answer_naming_other_records_is_a_failure_not_outcomes(app, emu):
    """Coalescing never widens silently: if Slingr answers a delete of two ids for a third
    record too, the batch fails as a whole (its entries 502) instead of reporting per id."""
    a, b, other = (r["id"] for r in emu.store.all(E)[:3])
    widened = {rid: {"status": "ok", "response": {"id": rid}} for rid in (a, b, other)}
    emu.faults.fail(status=200, body=orjson.dumps(widened), method="DELETE")
    with pytest.raises(BackendFailure) as caught:
        await app.delete_many(E, [a, b])
    assert caught.value.source is not None and caught.value.source.error == "widened_delete"
    assert caught.value.sent
