"""Slingr query translation: pushed filters, sorts and values as Slingr's query language."""

import pytest

from connectors.slingr.metadata import entity_from_sample, make_field
from connectors.slingr.query import pushable, sort_params, to_params
from gateway.errors import Unsupported
from gateway.query.model import Condition, Group, OrderKey

F = {
    "name": make_field("name", "text"),
    "type": make_field("type", "choice", options=("a", "b", "c")),
    "n": make_field("n", "integer"),
    "rating": make_field("rating", "decimal"),
    "ok": make_field("ok", "boolean"),
    "born": make_field("born", "date"),
    "company": make_field("company", "relationship"),
    "company.label": make_field("company.label", "text"),
    "contactInformation.email": make_field("contactInformation.email", "email"),
    "addresses.state": make_field("addresses.state", "text", multiple=True),
}


def params(*groups):
    return to_params(tuple(Group(tuple(g)) for g in groups), F)


def test_one_group_of_distinct_fields_is_plain_parameters():
    got = params([Condition("type", "==", "a"), Condition("n", ">", "200"),
                  Condition("contactInformation.email", "endsWith", "@x.io")])
    assert got == {"type": "a", "n": "greater(200)", "contactInformation.email": "like(@x.io/)"}


def test_or_of_and_groups_is_one_query_parameter():
    got = params([Condition("type", "==", "b"), Condition("ok", "==", True)],
                 [Condition("type", "==", "a")])
    assert got == {"_query": "or(and(filter('type','b'),filter('ok','true')),filter('type','a'))"}


def test_a_field_twice_in_one_group_goes_through_query():
    got = params([Condition("n", ">", 1), Condition("n", "<", 9)])
    assert got == {"_query": "and(filter('n','greater(1)'),filter('n','less(9)'))"}


def test_in_is_comma_or_and_commas_in_values_are_double_quoted():
    got = params([Condition("name", "in", ("ACME, Inc", "Blogpad"))])
    assert got == {"name": '"ACME, Inc",Blogpad'}
    assert params([Condition("name", "==", "ACME, Inc")]) == {"name": '"ACME, Inc"'}


def test_not_in_is_an_and_of_not_equals():
    got = params([Condition("type", "notIn", ("a", "b"))])
    assert got == {"_query": "and(filter('type','notEquals(a)'),filter('type','notEquals(b)'))"}


def test_a_value_shaped_like_an_operator_is_wrapped_in_equals():
    assert params([Condition("name", "==", "like(x)")]) == {"name": "equals(like(x))"}


def test_single_quotes_and_backslashes_are_escaped_in_query():
    got = params([Condition("name", "==", "O'Hara\\")], [Condition("type", "==", "a")])
    assert got == {"_query": "or(filter('name','O\\'Hara\\\\'),filter('type','a'))"}


@pytest.mark.parametrize(("op", "wire"), [
    ("contains", "like(ab)"), ("startsWith", "like(/ab)"), ("endsWith", "like(ab/)"),
    ("!=", "notEquals(ab)"), (">=", "greaterOrEquals(ab)"), ("<=", "lessOrEquals(ab)"),
])
def test_operator_functions(op, wire):
    assert params([Condition("name", op, "ab")]) == {"name": wire}


def test_null_operators_are_empty_functions():
    assert params([Condition("type", "isNull")]) == {"type": "empty()"}
    assert params([Condition("company", "isNotNull")]) == {"company": "notEmpty()"}


def test_numbers_are_normalised_and_must_fit_the_type():
    assert params([Condition("rating", "==", "2.80")]) == {"rating": "2.8"}
    assert params([Condition("n", "==", "10.0")]) == {"n": "10"}
    assert not pushable(Condition("n", "==", "2.5"), F["n"])
    assert not pushable(Condition("n", ">", "abc"), F["n"])


@pytest.mark.parametrize("cond", [
    Condition("type", "contains", "a"),  # choice has no like
    Condition("type", ">", "a"),  # nor comparisons
    Condition("ok", ">", True),
    Condition("ok", "isNull"),  # boolean has no empty()
    Condition("company", "==", "Acme"),  # Slingr compares the label, the gateway the object
    Condition("name", "startsWith", "a/"),  # like(/a/) would be a regular expression
    Condition("name", "contains", "/a"),  # like(/a) would mean starts with
    Condition("name", "==", 'say "hi"'),  # no escape for a double quote
    Condition("name", "==", ""),
    Condition("name", "isNull"),  # empty() also matches "", a value for the gateway
    Condition("name", "==", None),
    Condition("born", ">", "2020-13-01"),
])
def test_what_slingr_cannot_answer_exactly_is_not_pushed(cond):
    assert not pushable(cond, F[cond.field])
    with pytest.raises(Unsupported):
        params([cond])


def test_one_sort_key_only():
    assert sort_params((OrderKey("name", descending=True),)) == {
        "_sortField": "name", "_sortType": "desc"}
    with pytest.raises(Unsupported):
        sort_params((OrderKey("name"), OrderKey("id")))


def test_multivalued_fields_are_not_sortable_but_single_nested_paths_are():
    assert F["name"].sortable
    assert F["contactInformation.email"].sortable  # [SD-QL] shows it sortable
    assert not F["addresses.state"].sortable and F["addresses.state"].multivalued


def test_inferred_fields_are_typed_cautiously():
    info = entity_from_sample("companies", [
        {"id": "1", "version": 0, "label": "A", "name": "A", "n": 3, "ok": True,
         "born": "2020-01-02", "company": {"id": "x", "label": "Acme"},
         "contactInformation": {"id": "c", "label": "Contact", "email": "a@b"},
         "addresses": [{"id": "d", "label": "NV", "state": "NV"}], "tags": ["x"]},
    ])
    f = info.fields
    assert (f["n"].type, f["ok"].type, f["born"].type) == ("integer", "boolean", "date")
    assert f["company.label"].filterable and not f["company"].sortable
    assert f["addresses.state"].multivalued and f["tags"].multivalued
    # an inferred string may be a choice, which refuses values not among its names: no value
    # goes, the gateway answers
    assert not pushable(Condition("name", "==", "A"), f["name"])
    assert not pushable(Condition("name", "contains", "A"), f["name"])
    assert pushable(Condition("company.id", "==", "5f1e0c3a9d1b2c3d4e5f6a7b"), f["company.id"])


def test_choice_values_go_only_when_they_are_configured_option_names():
    f = make_field("state", "choice", options=("active", "inactive"))
    assert pushable(Condition("state", "==", "active"), f)
    assert pushable(Condition("state", "in", ("active", "inactive")), f)
    for cond in (Condition("state", "==", "ACTIVE"), Condition("state", "!=", "zz"),
                 Condition("state", "in", ("active", "zz")),
                 Condition("state", "notIn", ("zz",))):
        assert not pushable(cond, f), cond
    assert not pushable(Condition("state", "==", "active"), make_field("state", "choice"))
    assert pushable(Condition("state", "isNull"), make_field("state", "choice"))
