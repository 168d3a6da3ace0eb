"""write_batch on the Data Service: runs of one action as insert/update/delete-batch, one call per
chunk, failOnFirst honoured, each op answering what its single call would."""

import pytest
from ds_live import API

from gateway.connector import BatchOp
from gateway.errors import BackendFailure, Conflict, InvalidRequest, NotFound

OLY = "Olympics"
SVC = f"{API}/EntityService"
MISSING = "00000000-0000-4000-8000-000000000000"
STAMPS = {"id", "CreateTime", "UpdateTime"}


def _calls(emu) -> list[tuple[str, str]]:
    return [(c.method, c.path.removeprefix(SVC)) for c in emu.log]


async def _raised(call) -> Exception:
    with pytest.raises(Exception) as info:
        await call
    return info.value


def _same_error(got: Exception | None, alone: Exception) -> None:
    assert type(got) is type(alone)
    assert (got.key, got.msg, got.params, got.details, got.source) == (
        alone.key, alone.msg, alone.params, alone.details, alone.source)


def _own(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in STAMPS}


async def test_a_batch_create_answers_what_a_single_create_answers(ds, emu):
    games = emu.store.all(OLY)[0]["Id"]
    data = {"Name": "Twin", "Country": "NZ", "Age": 30, "Height": 1.85, "Active": True,
            "Sport": 1, "Games": games, "Born": "1990-01-02", "Bio": "Long story. " * 500}
    alone = await ds.create("Athletes", data)
    emu.reset_log()
    [out] = await ds.write_batch("Athletes", [BatchOp("create", data=data)])
    assert out.error is None and out.executed and out.record["id"] != alone["id"]
    assert list(out.record) == list(alone)
    assert _own(out.record) == _own(alone)
    assert _calls(emu) == [("POST", "/Athletes/insert-batch")]


async def test_mixed_ops_make_one_call_per_run_and_failures_are_the_single_errors(ds, emu):
    rows = emu.store.all(OLY)
    upd, gone = rows[0]["Id"], rows[1]["Id"]
    await ds.describe(OLY)
    emu.reset_log()
    out = await ds.write_batch(OLY, [
        BatchOp("create", data={"Name": "A"}),
        BatchOp("create", data={"Nations": 3}),  # Name is required
        BatchOp("create", data={"Name": "C"}),
        BatchOp("update", record_id=upd, data={"Nations": 77}),
        BatchOp("update", record_id=MISSING, data={"Nations": 1}),
        BatchOp("delete", record_id=gone),
        BatchOp("delete", record_id=MISSING),
        BatchOp("create", data={"Name": "D"}),
    ])
    assert _calls(emu) == [("POST", "/Olympics/insert-batch"), ("POST", "/Olympics/update-batch"),
                           ("POST", "/Olympics/delete-batch"), ("POST", "/Olympics/insert-batch")]
    assert [o.record["Name"] for o in (out[0], out[2], out[7])] == ["A", "C", "D"]
    assert out[3].record["Nations"] == 77 and out[3].record["id"] == upd
    assert out[5].record == {"id": gone}
    assert all(o.executed for o in out)
    singles = [await _raised(ds.create(OLY, {"Nations": 3})),
               await _raised(ds.update(OLY, MISSING, {"Nations": 1}, None)),
               await _raised(ds.delete(OLY, MISSING))]
    assert [type(e) for e in singles] == [InvalidRequest, NotFound, NotFound]
    for got, alone in zip((out[1].error, out[4].error, out[6].error), singles, strict=True):
        _same_error(got, alone)
    assert emu.store.row(OLY, upd)["Nations"] == 77 and emu.store.row(OLY, gone) is None


@pytest.mark.parametrize("status", [200, 400])
async def test_fail_on_first_leaves_later_ops_not_executed_and_not_stored(ds, emu, status):
    emu.batch_failure_status = status
    kept = emu.store.all(OLY)[0]["Id"]
    before = len(emu.store.all(OLY))
    await ds.describe(OLY)
    emu.reset_log()
    out = await ds.write_batch(OLY, [BatchOp("create", data={"Name": "Stored"}),
                                   BatchOp("create", data={"Nations": 1}),
                                   BatchOp("create", data={"Name": "Never"}),
                                   BatchOp("delete", record_id=kept)], fail_on_first=True)
    assert out[0].record["Name"] == "Stored" and isinstance(out[1].error, InvalidRequest)
    assert [o.executed for o in out] == [True, True, False, False]
    assert out[2].record is None and out[3].record is None
    assert _calls(emu) == [("POST", "/Olympics/insert-batch")]
    assert emu.log[0].query["failOnFirst"] == "true"
    names = [r["Name"] for r in emu.store.all(OLY)]
    assert len(names) == before + 1 and "Never" not in names
    assert emu.store.row(OLY, kept) is not None


async def test_versioned_updates_are_checked_by_one_query_as_single_updates_are(ds, emu):
    a, b = emu.store.all(OLY)[:2]
    current = (await ds.get(OLY, a["Id"], None))["UpdateTime"]
    stale = "2000-01-01T00:00:00Z"
    await ds.describe(OLY)
    emu.reset_log()
    out = await ds.write_batch(OLY, [
        BatchOp("update", record_id=a["Id"], data={"Nations": 5}, version=current),
        BatchOp("update", record_id=b["Id"], data={"Nations": 6}, version=stale),
        BatchOp("update", record_id=MISSING, data={"Nations": 7}, version=stale),
    ])
    assert _calls(emu) == [("POST", "/Olympics/query"), ("POST", "/Olympics/update-batch")]
    assert [i["Id"] for i in emu.log[1].body] == [a["Id"]]  # refused ops are not sent
    assert out[0].record["Nations"] == 5
    _same_error(out[1].error, await _raised(ds.update(OLY, b["Id"], {"Nations": 6}, stale)))
    _same_error(out[2].error, await _raised(ds.update(OLY, MISSING, {"Nations": 7}, stale)))
    assert isinstance(out[1].error, Conflict) and emu.store.row(OLY, b["Id"])["Nations"] != 6


async def test_a_stale_version_stops_a_fail_on_first_batch_where_it_stands(ds, emu):
    a, b, c = emu.store.all(OLY)[:3]
    await ds.describe(OLY)
    emu.reset_log()
    out = await ds.write_batch(OLY, [
        BatchOp("update", record_id=a["Id"], data={"Nations": 11}),
        BatchOp("update", record_id=b["Id"], data={"Nations": 12}, version="2000-01-01T00:00:00Z"),
        BatchOp("update", record_id=c["Id"], data={"Nations": 13}),
    ], fail_on_first=True)
    assert out[0].record["Nations"] == 11 and isinstance(out[1].error, Conflict)
    assert not out[2].executed and emu.store.row(OLY, c["Id"])["Nations"] != 13
    assert [i["Id"] for i in emu.log[-1].body] == [a["Id"]]


async def test_the_same_record_twice_in_a_run_takes_a_second_call(ds, emu):
    rid = emu.store.all(OLY)[0]["Id"]
    await ds.describe(OLY)
    emu.reset_log()
    out = await ds.write_batch(OLY, [BatchOp("delete", record_id=rid),
                                   BatchOp("delete", record_id=rid)])
    assert out[0].record == {"id": rid} and isinstance(out[1].error, NotFound)
    assert _calls(emu) == [("POST", "/Olympics/delete-batch")] * 2


async def test_a_lost_batch_answer_raises_and_is_never_resent(ds, emu):
    before = len(emu.store.all(OLY))
    await ds.describe(OLY)
    emu.reset_log()
    emu.faults.drop(times=1, after_processing=True, method="POST",
                    path=f"{SVC}/{OLY}/insert-batch")
    with pytest.raises(BackendFailure):
        await ds.write_batch(OLY, [BatchOp("create", data={"Name": "Lost 1"}),
                                 BatchOp("create", data={"Name": "Lost 2"})])
    assert _calls(emu) == [("POST", "/Olympics/insert-batch")]
    names = [r["Name"] for r in emu.store.all(OLY)]
    assert len(names) == before + 2 and names.count("Lost 1") == 1


async def test_capabilities_declare_every_action_and_fail_on_first(ds):
    caps = ds.capabilities
    assert caps.native_batch and caps.batch_limit == 1000 and caps.batch_fail_on_first
    assert caps.batch_actions == {"create", "update", "delete"}
    with pytest.raises(InvalidRequest):
        await ds.write_batch(OLY, [BatchOp("delete", record_id=MISSING)] * 1001)
