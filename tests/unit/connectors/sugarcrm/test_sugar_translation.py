"""Pushed queries → Sugar filter JSON, and which conditions may be pushed at all."""

import pytest

from connectors.sugarcrm.metadata import entity_from_metadata, field_info
from connectors.sugarcrm.query import capabilities, order_by, pushable, to_filter
from gateway.connector import FieldInfo
from gateway.errors import Unsupported
from gateway.query.model import OPERATORS, Condition, Group, OrderKey

FIELDS = {
    "name": FieldInfo("name", "string"),
    "employees_n": FieldInfo("employees_n", "integer"),
    "amount": FieldInfo("amount", "number"),
    "do_not_call": FieldInfo("do_not_call", "boolean"),
    "birthdate": FieldInfo("birthdate", "date"),
    "date_entered": FieldInfo("date_entered", "datetime"),
    "email": FieldInfo("email", "string", filterable=False, sortable=False, multivalued=True),
    "picture": FieldInfo("picture", "file", filterable=False, sortable=False),
}


def c(field, op, value=None):
    return Condition(field, op, value)


def one(cond):
    return to_filter((Group((cond,)),), FIELDS)


def test_capabilities_promise_every_operator_and_follow_max_per_call():
    caps = capabilities(250)
    assert caps.operators == frozenset(OPERATORS)
    assert caps.max_page == 250 and caps.or_groups and caps.multi_sort and caps.counts


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (c("name", "==", "Acme"), [{"name": {"$equals": "Acme"}}]),
        (c("name", "!=", "Acme"),
         [{"$or": [{"name": {"$not_equals": "Acme"}}, {"name": {"$is_null": ""}}]}]),
        (c("name", "in", ("a", "b")), [{"name": {"$in": ["a", "b"]}}]),
        (c("name", "notIn", ("a", "b")), [{"name": {"$not_in": ["a", "b"]}}]),
        (c("name", "contains", "cm"), [{"name": {"$contains": "cm"}}]),
        (c("name", "startsWith", "Ac"), [{"name": {"$starts": "Ac"}}]),
        (c("name", "endsWith", "me"), [{"name": {"$ends": "me"}}]),
        (c("name", "isNull"), [{"name": {"$is_null": ""}}]),
        (c("name", "isNotNull"), [{"name": {"$not_null": ""}}]),
        (c("name", ">", "M"), [{"name": {"$gt": "M"}}]),
        (c("employees_n", ">=", "10"), [{"employees_n": {"$gte": 10}}]),
        (c("amount", "<", 2.5), [{"amount": {"$lt": 2.5}}]),
        (c("birthdate", "<=", "1990-01-31"), [{"birthdate": {"$lte": "1990-01-31"}}]),
        (c("do_not_call", "==", True), [{"do_not_call": {"$equals": True}}]),
    ],
)
def test_each_operator_translation(cond, expected):
    assert pushable(cond, FIELDS[cond.field])
    assert one(cond) == expected


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        # Sugar widens a date-only value to the UTC day; $gt/$lt would miss a boundary second
        ("==", {"date_entered": {"$equals": "2024-03-10"}}),
        (">", {"date_entered": {"$gte": "2024-03-11"}}),
        (">=", {"date_entered": {"$gte": "2024-03-10"}}),
        ("<", {"date_entered": {"$lte": "2024-03-09"}}),
        ("<=", {"date_entered": {"$lte": "2024-03-10"}}),
        ("!=", {"$or": [{"date_entered": {"$lte": "2024-03-09"}},
                        {"date_entered": {"$gte": "2024-03-11"}},
                        {"date_entered": {"$is_null": ""}}]}),
    ],
)
def test_date_only_on_datetime_field_is_the_whole_utc_day(op, expected):
    cond = c("date_entered", op, "2024-03-10")
    assert pushable(cond, FIELDS["date_entered"])
    assert one(cond) == [expected]


def test_full_datetime_is_sent_in_utc():
    cond = c("date_entered", ">", "2024-03-10T12:00:00+02:00")
    assert one(cond) == [{"date_entered": {"$gt": "2024-03-10T10:00:00+00:00"}}]


@pytest.mark.parametrize(
    "cond",
    [
        c("name", "contains", "50%"),  # LIKE wildcard Sugar does not escape
        c("name", "startsWith", "a_b"),
        c("name", "endsWith", "a\\b"),
        c("name", "contains", ""),
        c("name", "in", ("a", "")),  # "" in $in also matches NULL on Sugar
        c("name", "notIn", ("", "b")),
        c("name", "in", ()),
        c("name", "==", ""),
        c("name", "==", 5),
        c("employees_n", "==", "ten"),
        c("employees_n", "contains", "1"),
        c("do_not_call", "==", "yes"),
        c("do_not_call", ">", True),
        c("birthdate", "==", "1990-02-30"),
        c("date_entered", "in", ("2024-03-10",)),
        c("date_entered", ">", "2024-03-10T12:00:00"),  # naive: Sugar reads the user's zone
        c("date_entered", "contains", "2024"),
        c("email", "==", "a@b.c"),
        c("picture", "isNull"),
    ],
)
def test_conditions_sugar_would_answer_differently_stay_in_the_gateway(cond):
    assert not pushable(cond, FIELDS[cond.field])
    with pytest.raises(Unsupported):
        one(cond)


def test_unknown_field_is_not_pushable():
    assert not pushable(c("nope", "==", "x"), None)


def test_single_group_is_the_top_level_and_array():
    f = (Group((c("name", "startsWith", "A"), c("employees_n", ">", 3))),)
    assert to_filter(f, FIELDS) == [{"name": {"$starts": "A"}}, {"employees_n": {"$gt": 3}}]


def test_or_groups_wrap_each_and_group_so_every_or_member_has_one_key():
    f = (
        Group((c("name", "==", "A"), c("employees_n", ">", 3))),
        Group((c("name", "!=", "B"),)),
    )
    out = to_filter(f, FIELDS)
    assert out == [{"$or": [
        {"$and": [{"name": {"$equals": "A"}}, {"employees_n": {"$gt": 3}}]},
        {"$or": [{"name": {"$not_equals": "B"}}, {"name": {"$is_null": ""}}]},
    ]}]
    members = out[0]["$or"]
    assert all(len(m) == 1 for m in members)


def test_empty_filter_and_empty_group_match_everything():
    assert to_filter((), FIELDS) == []
    assert to_filter((Group(()), Group((c("name", "==", "A"),))), FIELDS) == []


def test_order_by_string():
    keys = (OrderKey("name"), OrderKey("date_entered", descending=True), OrderKey("id"))
    assert order_by(keys) == "name:asc,date_entered:desc,id:asc"
    assert order_by(()) is None


@pytest.mark.parametrize(
    ("sugar_type", "ftype", "filterable", "multivalued"),
    [
        ("int", "integer", True, False),
        ("currency", "number", True, False),
        ("decimal", "number", True, False),
        ("bool", "boolean", True, False),
        ("date", "date", True, False),
        ("datetimecombo", "datetime", True, False),
        ("datetime", "datetime", True, False),
        ("image", "file", False, False),
        ("relate", "string", False, False),
        ("link", "string", False, True),
        ("email", "string", False, True),
        ("multienum", "string", False, True),
        ("enum", "string", True, False),
        ("varchar", "string", True, False),
    ],
)
def test_metadata_types(sugar_type, ftype, filterable, multivalued):
    info = field_info("f", {"name": "f", "type": sugar_type})
    assert (info.type, info.filterable, info.sortable, info.multivalued) == (
        ftype, filterable, filterable, multivalued)


def test_non_db_fields_are_not_filterable_and_id_always_exists():
    info = entity_from_metadata("Accounts", {"fields": {
        "email1": {"name": "email1", "type": "varchar", "source": "non-db"}}})
    assert not info.fields["email1"].filterable
    assert info.fields["id"].filterable
