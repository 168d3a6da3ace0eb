"""gateway/related.py: the cut of related records, on plain data (no server needed)."""

from __future__ import annotations

from gateway.config.model import Consumer
from gateway.connector import EntityInfo, FieldInfo
from gateway.errors import Forbidden, NotFound
from gateway.query.model import Condition, Group, OrderKey, Query
from gateway.related import ANY_ENTITY, check_query, cut_related, plan_cut

ENTITIES = {
    "Athletes": EntityInfo("Athletes", {
        "id": FieldInfo("id"), "Name": FieldInfo("Name"),
        "Games": FieldInfo("Games", "json", related="Olympics"),
        "Coaches": FieldInfo("Coaches", "json", related="Coaches", multivalued=True),
        "club_name": FieldInfo("club_name", related="Clubs", related_copy=True),
    }),
    "Olympics": EntityInfo("Olympics", {
        "id": FieldInfo("id"), "Name": FieldInfo("Name"),
        "Host": FieldInfo("Host", "json", related="Cities"),
    }),
}


def consumer(*entities: str) -> Consumer:
    return Consumer.model_validate({"name": "c", "apiKey": "k" * 16, "orgs": ["o"],
                                    "scopes": {"entities": list(entities)}})


async def describe(name: str) -> EntityInfo:
    if name not in ENTITIES:
        raise NotFound(f"Unknown entity '{name}'")
    return ENTITIES[name]


RECORD = {
    "id": "a1", "Name": "Ana",
    "Games": {"Id": "g1", "Name": "Paris", "Host": {"Id": "c1", "Name": "Paris, FR"}},
    "Coaches": [{"Id": "k1", "Name": "Bo"}, {"Id": "k2", "Name": "Cy"}],
    "club_name": "Racing",
}


async def test_out_of_scope_relations_keep_only_their_ids() -> None:
    (got,) = await cut_related([RECORD], consumer("src/Athletes"), "src",
                               ENTITIES["Athletes"], describe)
    assert got == {"id": "a1", "Name": "Ana", "Games": {"Id": "g1"},
                   "Coaches": [{"Id": "k1"}, {"Id": "k2"}], "club_name": None}
    assert RECORD["Games"]["Name"] == "Paris"  # the input is not changed


async def test_an_allowed_relation_is_cut_one_level_further() -> None:
    (got,) = await cut_related([RECORD], consumer("src/Athletes", "src/Olympics"), "src",
                               ENTITIES["Athletes"], describe)
    assert got["Games"] == {"Id": "g1", "Name": "Paris", "Host": {"Id": "c1"}}


async def test_a_related_entity_that_cannot_be_described_is_cut_to_ids() -> None:
    (got,) = await cut_related([RECORD], consumer("src/Athletes", "src/Coaches"), "src",
                               ENTITIES["Athletes"], describe)
    assert got["Coaches"] == [{"Id": "k1"}, {"Id": "k2"}]  # fail closed


async def test_no_entity_scopes_or_a_source_wildcard_cut_nothing() -> None:
    for who in (None, consumer("src/*"), consumer("s*/*")):
        got = await cut_related([RECORD], who, "src", ENTITIES["Athletes"], describe)
        assert got == [RECORD]
    unknown = EntityInfo("x", {"ref": FieldInfo("ref", "json", related=ANY_ENTITY)})
    cut = await plan_cut(consumer("src/x", "src/y"), "src", unknown, describe)
    assert cut.apply({"ref": {"id": "1", "label": "L"}}) == {"ref": {"id": "1"}}
    assert cut.apply({"ref": "1"}) == {"ref": "1"} and cut.apply({"ref": None}) == {"ref": None}


async def test_what_a_query_may_compare() -> None:
    cut = await plan_cut(consumer("src/Athletes", "src/Olympics"), "src", ENTITIES["Athletes"],
                         describe)
    assert not cut.reveals("Name") and not cut.reveals("Games.Name")
    assert cut.reveals("Games.Host.Name") and not cut.reveals("Games.Host.Id")
    assert cut.reveals("Coaches") and not cut.reveals("Coaches", null_check=True)
    assert cut.reveals("club_name") and cut.reveals("club_name.id")
    assert not cut.reveals("club_name", null_check=True)


async def test_check_query_names_every_refused_filter_and_order_key() -> None:
    q = Query(filter=(Group((Condition("Name", "==", "Ana"),
                             Condition("Games.Name", "startsWith", "P"))),
                      Group((Condition("Games", "isNull"),))),
              order_by=(OrderKey("club_name"), OrderKey("Name")))
    try:
        await check_query(q, consumer("src/Athletes"), "src", ENTITIES["Athletes"], describe)
    except Forbidden as err:
        assert err.key == "related_not_allowed" and err.status == 403
        assert [d.path for d in err.details] == ["filter[0][1].field", "orderBy[0].field"]
        said = ("This API key may not filter or sort on '{}': it reads a related record of an "
                "entity this key may not use (only its id, or whether it is set)")
        assert err.msg == said.format("Games.Name") and err.params == {"field": "Games.Name"}
        assert [(d.msg, d.key, d.params) for d in err.details] == [
            (said.format("Games.Name"), "related_not_allowed", {"field": "Games.Name"}),
            (said.format("club_name"), "related_not_allowed", {"field": "club_name"})]
    else:
        raise AssertionError("a filter on Games.Name was let through")
    await check_query(q, consumer("src/*"), "src", ENTITIES["Athletes"], describe)
