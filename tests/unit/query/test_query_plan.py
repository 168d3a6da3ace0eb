"""Planning: how a query is split between a backend with given Capabilities and the gateway."""

from __future__ import annotations

from typing import Any

import orjson
from query_fakes import BARE, ENTITY, FULL, NARROW, caps

from gateway.connector import EntityInfo
from gateway.query.model import Condition, Group, OrderKey, Query
from gateway.query.plan import plan


def yes(e: EntityInfo, c: Condition) -> bool:
    return True


A = Condition("rev", ">=", "1000")
B = Condition("name", "contains", "ac")
C = Condition("name", "==", "x")
D = Condition("active", "==", "true")


def q(*groups: tuple[Condition, ...], order: tuple[OrderKey, ...] = (), **kw: Any) -> Query:
    return Query(filter=tuple(Group(g) for g in groups), order_by=order, **kw)


def test_everything_pushed_on_a_full_backend() -> None:
    query = q((A, B), (C,), order=(OrderKey("name", True),))
    p = plan(query, ENTITY, FULL, yes)
    assert p.pushed.filter == query.filter and p.residual == ()
    assert p.pushed.order_by == (OrderKey("name", True), OrderKey("id"))
    assert (p.strategy, p.sort_in_gateway, p.extra_fields) == ("window", False, ())
    assert p.pushed.fields is None


def test_default_order_is_id_and_an_explicit_id_key_is_not_doubled() -> None:
    assert plan(q(), ENTITY, FULL, yes).pushed.order_by == (OrderKey("id"),)
    order = (OrderKey("id", True), OrderKey("name"))
    assert plan(q(order=order), ENTITY, FULL, yes).pushed.order_by == order


def test_unsupported_operator_pushes_the_rest_of_its_group() -> None:
    p = plan(q((A, B)), ENTITY, NARROW, yes)  # NARROW has no `contains`
    assert p.pushed.filter == (Group((A,)),)
    assert p.residual == q((A, B)).filter
    assert p.strategy == "scan" and p.not_pushed == ("filter[0][1]",)


def test_connector_veto_counts_like_a_missing_operator() -> None:
    p = plan(q((A, C)), ENTITY, FULL, lambda e, c: c.field != "name")
    assert p.pushed.filter == (Group((A,)),) and p.residual == q((A, C)).filter


def test_or_groups_without_backend_or_push_no_filter() -> None:
    query = q((A,), (C,))
    p = plan(query, ENTITY, NARROW, yes)
    assert p.pushed.filter == () and p.residual == query.filter and p.strategy == "scan"


def test_superset_is_the_or_of_pushable_parts_when_or_is_available() -> None:
    query = q((A, B), (C, D))
    p = plan(query, ENTITY, caps(FULL, operators=frozenset({">=", "=="})), yes)
    assert p.pushed.filter == (Group((A,)), Group((C, D)))
    assert p.residual == query.filter


def test_a_group_with_nothing_pushable_means_no_pushed_filter() -> None:
    query = q((A,), (B,))
    p = plan(query, ENTITY, caps(FULL, operators=frozenset({">="})), yes)
    assert p.pushed.filter == () and p.residual == query.filter


def test_bare_backend_gets_nothing_and_the_gateway_does_all() -> None:
    query = q((A, B), order=(OrderKey("name"),), fields=("name",))
    p = plan(query, ENTITY, BARE, yes)
    assert p.pushed.filter == () and p.pushed.order_by == ()
    assert p.sort_in_gateway and p.strategy == "scan"
    assert p.pushed.fields == ("name", "id", "rev")
    assert p.extra_fields == ("rev",)


def test_single_key_backend_sorts_in_gateway_but_walks_by_id() -> None:
    p = plan(q(order=(OrderKey("name"),)), ENTITY, NARROW, yes)
    assert p.sort_in_gateway and p.sort_reason == "backend sorts by one key only"
    assert p.pushed.order_by == (OrderKey("id"),)
    assert p.strategy == "scan"


def test_single_key_backend_pushes_a_plain_id_order() -> None:
    p = plan(q((A,), order=(OrderKey("id", True),)), ENTITY, NARROW, yes)
    assert not p.sort_in_gateway and p.pushed.order_by == (OrderKey("id", True),)
    assert p.strategy == "scan"  # NARROW cannot count: totalSize needs the walk
    counting = caps(NARROW, counts=True)
    assert plan(q((A,), order=(OrderKey("id", True),)), ENTITY, counting, yes).strategy == "window"


def test_non_sortable_or_multivalued_keys_sort_in_gateway() -> None:
    entity = ENTITY
    for field in ("tags", "notes"):
        p = plan(q(order=(OrderKey(field),)), entity, FULL, yes)
        assert p.sort_in_gateway and p.pushed.order_by == (OrderKey("id"),), field


def test_pushed_sort_with_residual_filter_scans_in_backend_order() -> None:
    p = plan(q((B,), order=(OrderKey("rev"),)), ENTITY, caps(FULL, operators=frozenset()), yes)
    assert not p.sort_in_gateway and p.strategy == "scan"
    assert p.pushed.order_by == (OrderKey("rev"), OrderKey("id"))


def test_fields_add_only_what_the_gateway_needs() -> None:
    query = q((A, B), order=(OrderKey("born"),), fields=("name", "born"))
    pushed_sort = plan(query, ENTITY, caps(FULL, operators=frozenset({">="})), yes)
    assert pushed_sort.pushed.fields == ("name", "born", "id", "rev")
    assert pushed_sort.extra_fields == ("rev",)
    everything = plan(query, ENTITY, FULL, yes)
    assert everything.pushed.fields == ("name", "born", "id") and everything.extra_fields == ()
    gateway_sort = plan(q((C,), order=(OrderKey("seen"),), fields=("id",)), ENTITY, BARE, yes)
    assert gateway_sort.pushed.fields == ("id", "name", "seen")
    assert gateway_sort.extra_fields == ("name", "seen")


def test_explain_is_plain_json() -> None:
    query = q((A, B), (C,), order=(OrderKey("name"),), fields=("name",))
    info = plan(query, ENTITY, NARROW, yes).explain()
    orjson.dumps(info)
    assert info["strategy"] == "scan" and info["sortInGateway"] is True
    assert info["notPushed"] == ["filter[0][1]"]
    assert info["residual"][0][0] == {"field": "rev", "operator": ">=", "value": "1000"}
    assert info["pushed"]["filter"] == [] and info["extraFields"] == ["rev"]
    assert info["orderBy"] == [{"field": "name", "order": "ASC"}, {"field": "id", "order": "ASC"}]
