"""The view source's YAML: its own shape, then its members against the described sources."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from view_world import A, B, config

from gateway.views.config import ViewSource, problems


def _entity(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fields": {"name": "string", "n": "integer"},
        "from": [{"source": "a", "entity": "things", "map": {"name": "title"}}],
    }
    return {**base, **changes}


def _locs(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as exc:
        ViewSource.model_validate({"type": "view", "entities": {"all": raw}})
    return [e["loc"] for e in exc.value.errors()]


def test_a_good_view_parses_with_defaults() -> None:
    entity = config().entities["all"]
    assert entity.collation.case == "insensitive" and not entity.collation.padSpace
    assert entity.partial == "deny" and entity.createIn is None
    assert [m.source for m in entity.from_] == ["a", "b", "c"]


@pytest.mark.parametrize(("raw", "loc"), [
    (_entity(fields={"name": "text"}), ("entities", "all", "fields", "name")),
    (_entity(fields={"id": "string"}), ("entities", "all", "fields")),
    (_entity(collation={"case": "upper"}), ("entities", "all", "collation", "case")),
    (_entity(partial="maybe"), ("entities", "all", "partial")),
    (_entity(**{"from": []}), ("entities", "all", "from")),
    (_entity(**{"from": [{"source": "a", "entity": "t", "mapp": {}}]}),
     ("entities", "all", "from", 0, "mapp")),
    (_entity(**{"from": [{"source": "a b", "entity": "t"}]}),
     ("entities", "all", "from", 0, "source")),
    (_entity(**{"from": [{"source": "a", "entity": "t", "map": {"source": "x"}}]}),
     ("entities", "all", "from", 0, "map")),
    (_entity(colation={}), ("entities", "all", "colation")),
])
def test_shape_errors_name_the_bad_key(raw: dict[str, Any], loc: tuple[Any, ...]) -> None:
    assert loc in _locs(raw)


@pytest.mark.parametrize(("raw", "words"), [
    (_entity(**{"from": [{"source": "a", "entity": "t"}, {"source": "a", "entity": "u"}]}),
     "from[1].source"),
    (_entity(**{"from": [{"source": "a", "entity": "t", "map": {"city": "c"}}]}),
     "from[0].map: city"),
    (_entity(createIn="z"), "createIn"),
])
def test_cross_member_errors_name_the_key(raw: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ViewSource.model_validate({"type": "view", "entities": {"all": raw}})
    assert words in str(exc.value)


def test_members_are_checked_against_the_described_sources() -> None:
    view = ViewSource.model_validate({"type": "view", "entities": {"all": {
        "fields": {"name": "string", "n": "string", "d": "date"},
        "from": [
            {"source": "a", "entity": "things", "map": {"name": "title", "n": "num",
                                                        "d": "nope"},
             "where": [[{"field": "ghost", "operator": "isNull"}],
                       [{"field": "num", "operator": "~", "value": 1}]]},
            {"source": "b", "entity": "nothing"},
            {"source": "zz", "entity": "x"},
            {"source": "v", "entity": "x"},
            {"source": "down", "entity": "x", "map": {"name": "whatever"}},
        ]}}})
    found = dict(problems("v", view, {"a": {"things": A}, "b": {"items": B}, "down": None,
                                      "v": {}}))
    at = ("sources", "v", "entities", "all", "from")
    assert "is integer, the view field 'n' is string" in found[(*at, 0, "map", "n")]
    assert "no field 'nope'" in found[(*at, 0, "map", "d")]
    assert any(k[:6] == (*at, 0) and str(k[6]).startswith("where[1][0]") for k in found)
    assert "no entity 'nothing'" in found[(*at, 1, "entity")]
    assert "no source named 'zz'" in found[(*at, 2, "source")]
    assert "own member" in found[(*at, 3, "source")]
    assert not any(k[5] == 4 for k in found)  # an undescribed member is not judged


def test_where_on_an_unknown_member_field_is_named() -> None:
    view = ViewSource.model_validate({"type": "view", "entities": {"all": _entity(**{
        "from": [{"source": "a", "entity": "things",
                  "where": [[{"field": "ghost", "operator": "isNull"}]]}]})}})
    found = dict(problems("v", view, {"a": {"things": A}}))
    assert "ghost" in found[("sources", "v", "entities", "all", "from", 0, "where[0][0].field")]
