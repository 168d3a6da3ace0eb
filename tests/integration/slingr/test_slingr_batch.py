"""write_batch on Slingr: deletes by id list, one call per batch, each id as its delete alone."""

import pytest

from gateway.connector import BatchOp
from gateway.errors import BackendFailure, InvalidRequest, NotFound, Unsupported

E = "companies"
DATA = f"/dev/runtime/api/data/{E}"
MISSING = "5685c1803b063a0007600000"


async def _raised(call) -> Exception:
    with pytest.raises(Exception) as info:
        await call
    return info.value


def _same_error(got: Exception | None, alone: Exception) -> None:
    assert type(got) is type(alone)
    assert (got.key, got.msg, got.params) == (alone.key, alone.msg, alone.params)


async def test_deletes_go_in_one_call_and_a_missing_id_fails_as_alone(app, emu):
    ids = [r["id"] for r in emu.store.all(E)[:3]]
    await app.count(await app.describe(E), ())  # logged in
    emu.reset_log()
    out = await app.write_batch(E, [BatchOp("delete", record_id=ids[0]),
                                    BatchOp("delete", record_id=MISSING),
                                    BatchOp("delete", record_id=ids[1]),
                                    BatchOp("delete", record_id=ids[2])])
    assert [(c.method, c.path) for c in emu.log] == [
        ("DELETE", f"{DATA}/{ids[0]},{MISSING},{ids[1]},{ids[2]}")]
    assert [o.record for o in out] == [{"id": ids[0]}, None, {"id": ids[1]}, {"id": ids[2]}]
    alone = await _raised(app.delete(E, MISSING))
    assert isinstance(alone, NotFound) and alone.key == "record_not_found"
    _same_error(out[1].error, alone)
    assert not {r["id"] for r in emu.store.all(E)} & set(ids)


async def test_one_delete_in_a_batch_is_the_single_call(app, emu):
    rid = emu.store.all(E)[0]["id"]
    await app.count(await app.describe(E), ())
    emu.reset_log()
    out = await app.write_batch(E, [BatchOp("delete", record_id=rid)])
    assert out[0].record == {"id": rid} and out[0].error is None
    [missing] = await app.write_batch(E, [BatchOp("delete", record_id=MISSING)])
    _same_error(missing.error, await _raised(app.delete(E, MISSING)))
    assert [c.path for c in emu.log][:2] == [f"{DATA}/{rid}", f"{DATA}/{MISSING}"]


async def test_the_same_id_twice_takes_a_second_call_so_each_delete_is_told_apart(app, emu):
    a, b = (r["id"] for r in emu.store.all(E)[:2])
    await app.count(await app.describe(E), ())
    emu.reset_log()
    out = await app.write_batch(E, [BatchOp("delete", record_id=a),
                                    BatchOp("delete", record_id=b),
                                    BatchOp("delete", record_id=a)])
    assert out[0].record == {"id": a} and out[1].record == {"id": b}
    assert isinstance(out[2].error, NotFound)
    assert [c.path for c in emu.log] == [f"{DATA}/{a},{b}", f"{DATA}/{a}"]


async def test_a_lost_answer_raises_and_is_never_resent(app, emu):
    ids = [r["id"] for r in emu.store.all(E)[:2]]
    await app.count(await app.describe(E), ())
    emu.reset_log()
    path = f"{DATA}/{','.join(ids)}"
    emu.faults.drop(times=1, after_processing=True, method="DELETE", path=path)
    with pytest.raises(BackendFailure):
        await app.write_batch(E, [BatchOp("delete", record_id=i) for i in ids])
    assert emu.calls("DELETE", path) == 1 and len(emu.log) == 1
    assert not {r["id"] for r in emu.store.all(E)} & set(ids)


async def test_capabilities_say_deletes_only(app):
    caps = app.capabilities
    assert caps.native_batch and caps.batch_actions == {"delete"}
    assert caps.batch_limit == 100 and not caps.batch_fail_on_first
    with pytest.raises(Unsupported):
        await app.write_batch(E, [BatchOp("create", data={"name": "x"})])
    with pytest.raises(Unsupported):
        await app.write_batch(E, [BatchOp("delete", record_id=MISSING)], fail_on_first=True)
    with pytest.raises(InvalidRequest):
        await app.write_batch(E, [BatchOp("delete", record_id=str(i)) for i in range(101)])
