"""The emulator's v3 surface driven, unchanged, by uipath-platform's `*_v3` methods."""

from __future__ import annotations

import pytest

from connectors.dataservice.emulator import DataServiceEmulator
from connectors.emulation.server import start
from tests.fidelity.dataservice.conftest import API, flt

uipath = pytest.importorskip("uipath.platform")

from uipath.platform import UiPath  # noqa: E402
from uipath.platform.entities import (  # noqa: E402
    EntityJoin,
    EntityQueryFilter,
    EntityQueryFilterGroup,
    EntityQuerySortOption,
    LogicalOperator,
    QueryFilterOperator,
)
from uipath.platform.errors import EnrichedException  # noqa: E402
from uipath.platform.identity import IdentityService  # noqa: E402

# v3 is what the SDK recommends: a call it has deprecated (a v1 method) fails the test.
pytestmark = pytest.mark.filterwarnings("error:Deprecated;:DeprecationWarning")
SCOPE = "DataService.Data.Read DataService.Data.Write DataService.Schema.Read"


async def _client(base: str, scope: str = SCOPE) -> UiPath:
    token = await IdentityService(base).get_client_credentials_token_async(
        client_id="recordgate", client_secret="recordgate-secret", scope=scope)
    return UiPath(base_url=f"{base}/acme/DefaultTenant", secret=token.access_token)


@pytest.fixture
async def sdk():
    emu = DataServiceEmulator(olympics=40, athletes=50)
    runner, base = await start(emu.app)
    try:
        service = (await _client(base)).entities
        yield emu, service, base
        await service.aclose()
    finally:
        await runner.cleanup()


def _data_calls(emu: DataServiceEmulator) -> list[str]:
    return [c.path for c in emu.log if "/identity" not in c.path]


def _only_v3(emu: DataServiceEmulator) -> None:
    paths = _data_calls(emu)
    assert paths and all(p.startswith(f"{API}/v3/entities") for p in paths), paths


async def test_v3_metadata(sdk):
    emu, entities, _ = sdk
    listed = await entities.list_entities_v3_async()
    assert {e.name for e in listed} == {"Olympics", "Athletes"}
    entity = await entities.retrieve_v3_async(emu.entity_id("Athletes"))
    assert entity.record_count == len(emu.store.all("Athletes")) == 50
    assert {f.name for f in entity.fields} >= {"Id", "Name", "Age", "Games", "Bio"}
    by_name = await entities.retrieve_by_name_v3_async("Olympics")
    assert by_name.id == emu.entity_id("Olympics")
    with pytest.raises(EnrichedException) as missing:
        await entities.retrieve_by_name_v3_async("Nope")
    assert missing.value.status_code == 404
    _only_v3(emu)
    assert emu.log[-1].path == f"{API}/v3/entities/Nope/metadata"


async def test_v3_single_record_crud_lands_in_the_store(sdk):
    emu, entities, _ = sdk
    key = emu.entity_id("Olympics")
    made = await entities.insert_record_v3_async(key, {"Name": "Paris 2024", "Nations": 206})
    stored = emu.store.get("Olympics", made.id)
    assert stored is not None and stored["Name"] == "Paris 2024" and stored["Nations"] == 206
    got = await entities.get_record_v3_async(key, made.id)
    assert (got.Name, got.Nations) == ("Paris 2024", 206)
    upd = await entities.update_record_v3_async(key, made.id, {"Nations": 205})
    assert upd.Nations == 205 and upd.Name == "Paris 2024"
    assert emu.store.get("Olympics", made.id)["Nations"] == 205
    await entities.delete_record_v3_async(key, made.id)
    assert emu.store.get("Olympics", made.id) is None
    with pytest.raises(EnrichedException) as gone:
        await entities.get_record_v3_async(key, made.id)
    assert gone.value.status_code == 404 and made.id in gone.value.response_content
    with pytest.raises(EnrichedException) as bad:
        await entities.insert_record_v3_async(key, {"Nations": "many"})  # no Name, bad Nations
    assert bad.value.status_code == 400
    assert len(emu.store.all("Olympics")) == 40
    _only_v3(emu)


async def test_v3_list_records_pages_cover_the_store_once(sdk):
    emu, entities, _ = sdk
    key = emu.entity_id("Olympics")
    seen: list[str] = []
    start = 0
    while True:
        page = await entities.list_records_v3_async(key, start=start, limit=15)
        assert page.total_count == 40
        seen += [r.id for r in page]
        if not page.has_next_page:
            break
        start += 15
    assert [len(seen[i:i + 15]) for i in range(0, 40, 15)] == [15, 15, 10]
    assert sorted(seen) == sorted(r["Id"] for r in emu.store.all("Olympics"))
    assert len(set(seen)) == 40
    _only_v3(emu)


async def test_v3_batches(sdk):
    emu, entities, _ = sdk
    key = emu.entity_id("Olympics")
    result = await entities.insert_records_v3_async(
        key, [{"Name": "A", "Nations": 1}, {"Name": "B", "Nations": "x"}, {"Name": "C"}])
    assert [r.Name for r in result.success_records] == ["A", "C"]
    assert len(result.failure_records) == 1 and result.failure_records[0].error
    assert result.failure_records[0].record == {"Name": "B", "Nations": "x"}
    emu.batch_failure_status = 400  # the SDK recovers a 400 carrying both lists on v3 too
    result = await entities.insert_records_v3_async(key, [{"Name": "D"}, {"Nations": 3}],
                                                    fail_on_first=True)
    assert [r.Name for r in result.success_records] == ["D"]
    emu.batch_failure_status = 200
    ids = [r["Id"] for r in emu.store.all("Olympics") if r["Name"] in ("A", "C")]
    result = await entities.update_records_v3_async(key, [{"Id": i, "Nations": 9} for i in ids])
    assert [r.Nations for r in result.success_records] == [9, 9]
    assert all(emu.store.get("Olympics", i)["Nations"] == 9 for i in ids)
    result = await entities.delete_records_v3_async(key, [*ids, ids[0]])
    assert len(result.success_records) == 2 and len(result.failure_records) == 1
    assert all(emu.store.get("Olympics", i) is None for i in ids)
    assert len(emu.store.all("Olympics")) == 41  # 40, plus A, C and D, less A and C
    _only_v3(emu)
    assert emu.calls("POST", f"{API}/v3/entities/entity/{key}/delete-batch") == 1


async def test_v3_query_filters_sort_paging_and_projection(sdk):
    emu, entities, _ = sdk
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
    assert 7 < len(want) < len(rows)  # several pages, and the filter really filters
    sort = [EntityQuerySortOption(field_name="Name"),
            EntityQuerySortOption(field_name="Age", is_descending=True)]
    seen: list[str] = []
    start = 0
    while True:
        page = await entities.retrieve_records_v3_async(key, filter_group=group, sort_options=sort,
                                                        start=start, limit=7, expansion_level=1)
        assert page.total_count == len(want)
        seen += [r.id for r in page.items]
        if not page.has_next_page:
            break
        start += 7
    assert len(seen) == len(want) and set(seen) == want
    names = [next(r["Name"] for r in rows if r["Id"] == i).lower() for i in seen]
    assert names == sorted(names)
    picked = await entities.retrieve_records_v3_async(key, selected_fields=["Name"], limit=3)
    assert all(set(r.model_dump(by_alias=True)) == {"Id", "Name"} for r in picked.items)
    _only_v3(emu)
    queries = [c for c in emu.log if c.path.endswith("/query")]
    assert queries[0].query == {"expansionLevel": "1"} and queries[0].body["limit"] == 7


async def test_v3_query_with_joins_is_routed_by_the_sdk_to_v1(sdk):
    emu, entities, _ = sdk
    key = emu.entity_id("Athletes")
    join = EntityJoin(entity_name="Athletes", join_type="LeftJoin", join_field_name="Games",
                      related_entity_name="Olympics", related_field_name="Id")
    await entities.retrieve_records_v3_async(key, joins=[join], limit=2)
    # The v3 by-id query refuses joins, so the SDK sends them to the v1 by-key route.
    assert _data_calls(emu) == [f"{API}/EntityService/entity/{key}/query"]


async def test_v3_scopes_and_errors(sdk):
    emu, _, base = sdk
    reader = (await _client(base, "DataService.Data.Read")).entities
    key = emu.entity_id("Olympics")
    try:
        assert (await reader.list_records_v3_async(key, limit=1)).total_count == 40
        with pytest.raises(EnrichedException) as denied:
            await reader.insert_record_v3_async(key, {"Name": "X"})
        assert denied.value.status_code == 403
        with pytest.raises(EnrichedException) as no_schema:
            await reader.list_entities_v3_async()
        assert no_schema.value.status_code == 403
        with pytest.raises(EnrichedException) as unknown:
            await reader.list_records_v3_async("00000000-0000-0000-0000-000000000000")
        assert unknown.value.status_code == 404
    finally:
        await reader.aclose()
    assert len(emu.store.all("Olympics")) == 40


# --- raw wire checks: what the SDK cannot send, answered as the service does ----------------


async def test_v3_query_refuses_joins_and_aggregates(ds, api):
    path = f"/v3/entities/entity/{ds.entity_id('Athletes')}/query"
    status, body = await api("POST", path, json={"joins": [{"entityName": "Olympics"}]})
    assert status == 400 and "joins" in body["error"].lower() and body["traceId"]
    status, body = await api("POST", path, json={"aggregates": [{"fieldName": "Age"}]})
    assert status == 400 and "aggregate" in body["error"].lower()
    status, body = await api("POST", path, json={"filterGroup": {"queryFilters": [
        flt("Nope", "=", "1")]}})
    assert status == 400 and "Nope" in body["error"]


async def test_v3_and_v1_serve_the_same_records(ds, api):
    key = ds.entity_id("Athletes")
    body = {"filterGroup": {"queryFilters": [flt("Age", ">", "30")]},
            "sortOptions": [{"fieldName": "Age"}], "start": 5, "limit": 10}
    v1 = await api("POST", f"/EntityService/entity/{key}/query", json=body)
    v3 = await api("POST", f"/v3/entities/entity/{key}/query", json=body)
    assert v1[0] == v3[0] == 200 and v1[1] == v3[1] and len(v3[1]["value"]) == 10
    rid = v3[1]["value"][0]["Id"]
    assert (await api("GET", f"/EntityService/entity/{key}/read/{rid}")) == \
        (await api("GET", f"/v3/entities/entity/{key}/read/{rid}"))


async def test_v3_unknown_routes_and_methods(ds, api):
    key = ds.entity_id("Olympics")
    assert (await api("PUT", f"/v3/entities/entity/{key}/update/x"))[0] == 405
    assert (await api("POST", f"/v3/entities/entity/{key}/bulk-upload"))[0] == 404
    assert (await api("POST", "/v3/entities", json={"displayName": "X"}))[0] == 405
    assert (await api("DELETE", f"/v3/entities/{key}"))[0] == 405
    assert (await api("GET", "/v3/other"))[0] == 404
    status, meta = await api("GET", f"/v3/entities/{key}")
    assert status == 200 and meta["entityClass"] == "Native" and meta["id"] == key
