"""One record at a time: get, create, update with optimistic locking, delete."""

import pytest

from gateway.errors import Conflict, InvalidRequest, NotFound


async def test_create_get_update_delete(crm):
    created = await crm.create("Accounts", {"name": "Recordgate Test", "industry": "Energy"})
    rid = created["id"]
    assert created["name"] == "Recordgate Test" and "_acl" not in created
    got = await crm.get("Accounts", rid, ("name", "industry"))
    assert got == {"id": rid, "name": "Recordgate Test", "industry": "Energy"}
    updated = await crm.update("Accounts", rid, {"industry": "Banking"}, None)
    assert updated["industry"] == "Banking" and updated["name"] == "Recordgate Test"
    await crm.delete("Accounts", rid)
    with pytest.raises(NotFound) as info:
        await crm.get("Accounts", rid, None)
    assert rid in info.value.msg and info.value.source.status == 404


async def test_stale_version_is_conflict(crm):
    created = await crm.create("Accounts", {"name": "Locked"})
    rid, stamp = created["id"], created["date_modified"]
    updated = await crm.update("Accounts", rid, {"name": "Locked v2"}, stamp)  # current: accepted
    assert updated["name"] == "Locked v2"
    with pytest.raises(Conflict) as info:
        await crm.update("Accounts", rid, {"name": "Locked v3"}, "2001-01-01T00:00:00+00:00")
    assert info.value.status == 409 and info.value.source.error == "edit_conflict"


async def test_missing_record_is_not_found_for_every_call(crm):
    for call in (crm.get("Accounts", "nope", None),
                 crm.update("Accounts", "nope", {"name": "x"}, None),
                 crm.delete("Accounts", "nope")):
        with pytest.raises(NotFound):
            await call


async def test_duplicate_id_is_invalid_request_with_sugars_message(crm):
    created = await crm.create("Accounts", {"name": "Dup"})
    with pytest.raises(InvalidRequest) as info:
        await crm.create("Accounts", {"id": created["id"], "name": "Dup again"})
    assert info.value.status == 400
    assert "already exists" in info.value.details[0].msg
