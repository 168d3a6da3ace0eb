"""write_batch over SugarCRM /bulk: each item answers as the same call alone, one call per batch."""

import pytest

from gateway.connector import BatchOp
from gateway.errors import BackendFailure, Conflict, InvalidRequest, NotFound, Unsupported

BULK = "/rest/v10/bulk"
M = "Accounts"
STAMPS = {"id", "date_entered", "date_modified"}


def _same_error(got: Exception | None, alone: Exception) -> None:
    assert type(got) is type(alone)
    assert (got.key, got.msg, got.params, got.details, got.source) == (
        alone.key, alone.msg, alone.params, alone.details, alone.source)


async def _raised(call) -> Exception:
    with pytest.raises(Exception) as info:
        await call
    return info.value


async def test_a_batch_create_answers_what_a_single_create_answers(crm, emu):
    data = {"name": "Batch Twin", "industry": "Energy", "employees": "12"}
    alone = await crm.create(M, data)
    emu.reset_log()
    [outcome] = await crm.write_batch(M, [BatchOp("create", data=data)])
    assert outcome.error is None and outcome.executed
    made = outcome.record
    assert made["id"] and made["id"] != alone["id"]
    assert made.keys() == alone.keys()
    assert {k: v for k, v in made.items() if k not in STAMPS} == \
        {k: v for k, v in alone.items() if k not in STAMPS}
    assert [(c.method, c.path) for c in emu.log] == [("POST", BULK)]
    stored = await crm.get(M, made["id"], None)
    assert stored["name"] == "Batch Twin"


async def test_updates_with_versions_and_deletes_in_one_call(crm, emu):
    a = await crm.create(M, {"name": "Up A"})
    b = await crm.create(M, {"name": "Up B"})
    twin = await crm.create(M, {"name": "Up A"})
    alone = await crm.update(M, twin["id"], {"id": twin["id"], "industry": "Banking"},
                             twin["date_modified"])
    emu.reset_log()
    out = await crm.write_batch(M, [
        BatchOp("update", record_id=a["id"], data={"id": a["id"], "industry": "Banking"},
                version=a["date_modified"]),
        BatchOp("delete", record_id=b["id"]),
    ])
    assert [o.error for o in out] == [None, None]
    assert out[0].record["industry"] == "Banking" and out[0].record["name"] == "Up A"
    assert {k: v for k, v in out[0].record.items() if k not in STAMPS} == \
        {k: v for k, v in alone.items() if k not in STAMPS}
    assert out[1].record == {"id": b["id"]}
    assert emu.calls("POST", BULK) == 1 and len(emu.log) == 1
    assert emu.log[0].body["requests"][0]["headers"] == {"X-Timestamp": a["date_modified"]}
    with pytest.raises(NotFound):
        await crm.get(M, b["id"], None)


async def test_each_failed_item_is_the_error_of_the_call_alone_and_the_others_run(crm, emu):
    kept = await crm.create(M, {"name": "Kept"})
    stale = "2001-01-01T00:00:00+00:00"
    ops = [
        BatchOp("create", data={"name": "First"}),
        BatchOp("create", data={"industry": "Energy"}),  # name is required
        BatchOp("update", record_id=kept["id"], data={"name": "x"}, version=stale),
        BatchOp("delete", record_id="no-such-record"),
        BatchOp("create", data={"id": kept["id"], "name": "Duplicate id"}),
        BatchOp("create", data={"name": "Last"}),
    ]
    emu.reset_log()
    out = await crm.write_batch(M, ops)
    assert emu.calls("POST", BULK) == 1 and len(emu.log) == 1
    assert all(o.executed for o in out)
    assert out[0].record["name"] == "First" and out[5].record["name"] == "Last"
    singles = [
        await _raised(crm.create(M, {"industry": "Energy"})),
        await _raised(crm.update(M, kept["id"], {"name": "x"}, stale)),
        await _raised(crm.delete(M, "no-such-record")),
        await _raised(crm.create(M, {"id": kept["id"], "name": "Duplicate id"})),
    ]
    assert [type(e) for e in singles] == [InvalidRequest, Conflict, NotFound, InvalidRequest]
    for got, alone in zip([o.error for o in out[1:5]], singles, strict=True):
        _same_error(got, alone)
    assert (await crm.get(M, kept["id"], None))["name"] == "Kept"


async def test_an_unknown_module_fails_each_create_as_alone(make, emu):
    crm = make()
    alone = await _raised(crm.create("Nope", {"name": "x"}))
    [out] = await crm.write_batch("Nope", [BatchOp("create", data={"name": "x"})])
    _same_error(out.error, alone)
    assert alone.key == "unknown_entity"


async def test_a_lost_bulk_answer_raises_and_is_never_resent(crm, emu):
    await crm.count(await crm.describe(M), ())  # logged in
    before = len(emu.store.all(M))
    emu.reset_log()
    emu.faults.drop(times=1, after_processing=True, method="POST", path=BULK)
    with pytest.raises(BackendFailure) as info:
        await crm.write_batch(M, [BatchOp("create", data={"name": "Lost 1"}),
                                  BatchOp("create", data={"name": "Lost 2"})])
    assert info.value.sent is not False
    assert emu.calls("POST", BULK) == 1 and len(emu.log) == 1
    names = [r["name"] for r in emu.store.all(M)]
    assert len(names) == before + 2 and names.count("Lost 1") == names.count("Lost 2") == 1


async def test_capabilities_are_declared_and_fail_on_first_is_refused(crm):
    caps = crm.capabilities
    assert caps.native_batch and caps.batch_limit == 50 and not caps.batch_fail_on_first
    assert caps.batch_actions == {"create", "update", "delete"}
    with pytest.raises(Unsupported):
        await crm.write_batch(M, [BatchOp("create", data={"name": "x"})], fail_on_first=True)
    with pytest.raises(InvalidRequest):
        await crm.write_batch(M, [BatchOp("delete", record_id=str(i)) for i in range(51)])
