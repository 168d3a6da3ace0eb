"""The Data Service emulator driven, unchanged, by UiPath's own Python SDK (uipath-platform)."""

from __future__ import annotations

import pytest

from connectors.dataservice.emulator import DataServiceEmulator
from connectors.emulation.server import start

uipath = pytest.importorskip("uipath.platform")

from uipath.platform import UiPath  # noqa: E402
from uipath.platform.entities import (  # noqa: E402
    EntityQueryFilter,
    EntityQueryFilterGroup,
    EntityQuerySortOption,
    LogicalOperator,
    QueryFilterOperator,
)
from uipath.platform.errors import EnrichedException  # noqa: E402
from uipath.platform.identity import IdentityService  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def sdk():
    emu = DataServiceEmulator(olympics=40, athletes=50)
    runner, base = await start(emu.app)
    try:
        # ExternalApplicationService pins cloud.uipath.com; IdentityService takes the host, and
        # UiPath(base_url=…, secret=…) is the documented way to pass a token directly.
        token = await IdentityService(base).get_client_credentials_token_async(
            client_id="recordgate", client_secret="recordgate-secret",
            scope="DataService.Data.Read DataService.Data.Write DataService.Schema.Read")
        assert token.expires_in == 3600
        client = UiPath(base_url=f"{base}/acme/DefaultTenant", secret=token.access_token)
        service = client.entities
        yield emu, service
        await service.aclose()
    finally:
        await runner.cleanup()


async def test_sdk_metadata(sdk):
    emu, entities = sdk
    listed = await entities.list_entities_async()
    assert {e.name for e in listed} == {"Olympics", "Athletes"}
    entity = await entities.retrieve_async(emu.entity_id("Athletes"))
    assert entity.record_count == 50
    assert {f.name for f in entity.fields} >= {"Id", "Name", "Age", "Games", "Bio"}


async def test_sdk_single_record_crud(sdk):
    emu, entities = sdk
    key = emu.entity_id("Olympics")
    made = await entities.insert_record_async(key, {"Name": "Paris 2024", "Nations": 206})
    assert made.id and made.Name == "Paris 2024"
    got = await entities.get_record_async(key, made.id)
    assert got.Nations == 206
    upd = await entities.update_record_async(key, made.id, {"Nations": 205})
    assert upd.Nations == 205 and upd.Name == "Paris 2024"
    await entities.delete_record_async(key, made.id)
    assert emu.store.get("Olympics", made.id) is None
    with pytest.raises(EnrichedException):
        await entities.get_record_async(key, made.id)


async def test_sdk_list_records_paging(sdk):
    emu, entities = sdk
    key = emu.entity_id("Olympics")
    first = await entities.list_records_async(key, start=0, limit=15)
    assert len(first) == 15 and first.total_count == 40 and first.has_next_page
    last = await entities.list_records_async(key, start=30, limit=15)
    assert len(last) == 10 and not last.has_next_page


async def test_sdk_batches(sdk):
    emu, entities = sdk
    key = emu.entity_id("Olympics")
    result = await entities.insert_records_async(
        key, [{"Name": "A", "Nations": 1}, {"Name": "B", "Nations": "x"}, {"Name": "C"}])
    assert [r.Name for r in result.success_records] == ["A", "C"]
    assert len(result.failure_records) == 1 and result.failure_records[0].error
    emu.batch_failure_status = 400  # the SDK recovers a 400 carrying both lists
    result = await entities.insert_records_async(key, [{"Name": "D"}, {"Nations": 3}],
                                                 fail_on_first=True)
    assert [r.Name for r in result.success_records] == ["D"]
    emu.batch_failure_status = 200
    ids = [r["Id"] for r in emu.store.all("Olympics") if r["Name"] in ("A", "C")]
    result = await entities.update_records_async(key, [{"Id": i, "Nations": 9} for i in ids])
    assert [r.Nations for r in result.success_records] == [9, 9]
    result = await entities.delete_records_async(key, ids)
    assert len(result.success_records) == 2
    assert all(emu.store.get("Olympics", i) is None for i in ids)


async def test_sdk_retrieve_records_filters_sort_paging(sdk):
    emu, entities = sdk
    key = emu.entity_id("Athletes")
    group = EntityQueryFilterGroup(
        logical_operator=LogicalOperator.Or,
        query_filters=[EntityQueryFilter(field_name="Age", operator=QueryFilterOperator.GreaterThan,
                                         value="35")],
        filter_groups=[EntityQueryFilterGroup(
            logical_operator=LogicalOperator.And,
            query_filters=[EntityQueryFilter(field_name="Country", operator=QueryFilterOperator.In,
                                             value_list=["USA", "KEN"]),
                           EntityQueryFilter(field_name="Active",
                                             operator=QueryFilterOperator.Equals, value="true")])])
    rows = emu.store.all("Athletes")
    want = {r["Id"] for r in rows if (r["Age"] is not None and r["Age"] > 35)
            or (r["Country"] in ("USA", "KEN") and r["Active"])}
    sort = [EntityQuerySortOption(field_name="Name"),
            EntityQuerySortOption(field_name="Age", is_descending=True)]
    seen: list[str] = []
    start = 0
    while True:
        page = await entities.retrieve_records_async(key, filter_group=group, sort_options=sort,
                                                     start=start, limit=7)
        assert page.total_count == len(want)
        seen += [r.id for r in page.items]
        if not page.has_next_page:
            break
        start += 7
    assert len(seen) == len(want) and set(seen) == want
    names = [next(r["Name"] for r in rows if r["Id"] == i).lower() for i in seen]
    assert names == sorted(names)
    picked = await entities.retrieve_records_async(key, selected_fields=["Name"], limit=3)
    assert all(set(r.model_dump(by_alias=True)) == {"Id", "Name"} for r in picked.items)


async def test_sdk_attachments(sdk):
    emu, entities = sdk
    key = emu.entity_id("Olympics")
    rid = emu.store.all("Olympics")[0]["Id"]
    await entities.upload_attachment_async(key, rid, "Logo", file=b"logo-bytes")
    assert await entities.download_attachment_async(key, rid, "Logo") == b"logo-bytes"
    await entities.delete_attachment_async(key, rid, "Logo")
    assert emu.store.get("Olympics", rid)["Logo"] is None
