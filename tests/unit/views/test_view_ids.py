"""View ids: ``<member source>:<member id>``, routed to the member, fields mapped back."""

from __future__ import annotations

import pytest
from view_world import members, view

from gateway.errors import InvalidRequest, NotFound
from gateway.views.mapping import join_id, split_id


def test_ids_compose_and_split_at_the_first_colon() -> None:
    assert join_id("crm", "a:b:c") == "crm:a:b:c"
    assert split_id("crm:a:b:c") == ("crm", "a:b:c")
    assert split_id("crm") is None and split_id(":x") is None and split_id("crm:") is None


def _world():  # type: ignore[no-untyped-def]
    ms = members(
        [{"id": "x:1", "title": "Acme", "num": 5, "state": "ok"},
         {"id": "x:2", "title": "Gone", "num": 1, "state": "gone"}],
        [{"id": "7", "name": "Beta", "n": 2, "d": "2024-01-01"}],
        [{"id": "k", "label": "Cee ", "day": None}],
    )
    return ms, view(ms)


async def test_get_routes_to_the_member_and_maps_fields_back() -> None:
    ms, v = _world()
    assert await v.get("all", "a:x:1", None) == {
        "id": "a:x:1", "source": "a", "name": "Acme", "n": 5, "d": None}
    assert await v.get("all", "b:7", ("name",)) == {"id": "b:7", "name": "Beta"}
    assert ms["a"].calls == [("get", "x:1")]


@pytest.mark.parametrize("bad", ["z:1", "a:nope", "a:x:2", "c:K"])
async def test_unknown_member_record_or_one_outside_where_is_404(bad: str) -> None:
    _, v = _world()
    with pytest.raises(NotFound) as exc:
        await v.get("all", bad, None)
    assert exc.value.key == "record_not_found"
    assert exc.value.params == {"id": bad, "source": "all", "entity": "all"}


@pytest.mark.parametrize("bad", ["nocolon", "a b:1", "a:\x00"])
async def test_an_id_of_another_shape_is_400_before_any_call(bad: str) -> None:
    ms, v = _world()
    with pytest.raises(InvalidRequest):
        await v.get("all", bad, None)
    assert all(not m.calls for m in ms.values())


async def test_unknown_entity_is_404() -> None:
    _, v = _world()
    with pytest.raises(NotFound):
        await v.describe("nope")


async def test_describe_lists_the_view_fields_with_id_and_source() -> None:
    _, v = _world()
    info = await v.describe("all")
    assert {n: f.type for n, f in info.fields.items()} == {
        "name": "string", "n": "integer", "d": "date", "id": "string", "source": "string"}
