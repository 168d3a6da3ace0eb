"""The residual semantics: what the gateway itself answers for every operator, type and null."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from query_fakes import ENTITY, sample_records

from gateway.connector import Capabilities, Collation, EntityInfo
from gateway.query.evaluate import coerce, matches, sort_key
from gateway.query.model import OPERATORS, Condition, Group, OrderKey

COMPLEMENTS = {"!=": "==", "notIn": "in", "isNotNull": "isNull"}


def hit(record: dict[str, Any], field: str, op: str, value: Any = None, *,
        ci: bool = True, entity: EntityInfo | None = ENTITY) -> bool:
    flt = (Group((Condition(field, op, value),)),)  # type: ignore[arg-type]
    return matches(record, flt, entity, case_insensitive=ci)


# -- coerce ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "ftype", "expected"), [
    ("1000", "integer", Decimal(1000)),
    (" 7 ", "integer", Decimal(7)),
    ("1.0", "integer", Decimal(1)),
    (5, "number", Decimal(5)),
    (0.1, "number", Decimal("0.1")),
    ("-1.5e2", "number", Decimal(-150)),
    ("true", "boolean", True),
    ("FALSE", "boolean", False),
    ("1", "boolean", True),
    (0, "boolean", False),
    ("2020-02-29", "date", date(2020, 2, 29)),
    ("2024-03-01", "datetime", date(2024, 3, 1)),
    ("2024-03-01T10:00:00Z", "datetime", datetime(2024, 3, 1, 10, tzinfo=UTC)),
    ("2024-03-01T10:00:00", "datetime", datetime(2024, 3, 1, 10, tzinfo=UTC)),
    (7, "string", "7"),
    (True, "string", "true"),
    (None, "integer", None),
])
def test_coerce(value: Any, ftype: Any, expected: Any) -> None:
    assert coerce(value, ftype) == expected


@pytest.mark.parametrize(("value", "ftype"), [
    ("abc", "integer"), ("1.5", "integer"), ("NaN", "number"), ("Infinity", "number"),
    ("1_000", "number"), (True, "number"), (float("inf"), "number"), ("yes", "boolean"),
    (2, "boolean"), ("2020-13-01", "date"), ("2020-01-01T00:00:00Z", "date"),
    ("tomorrow", "datetime"), (20240301, "datetime"), ([1], "number"),
])
def test_coerce_refuses(value: Any, ftype: Any) -> None:
    with pytest.raises(ValueError):
        coerce(value, ftype)


# -- nulls and complements -------------------------------------------------------------------

VALUES = {"==": "x", "!=": "x", ">": "x", ">=": "x", "<": "x", "<=": "x", "in": ("x", "y"),
          "notIn": ("x", "y"), "contains": "x", "startsWith": "x", "endsWith": "x",
          "isNull": None, "isNotNull": None}


@pytest.mark.parametrize("op", OPERATORS)
@pytest.mark.parametrize("record", [{"id": "1"}, {"id": "1", "name": None},
                                    {"id": "1", "tags": []}])
def test_null_matches_only_negatives_and_is_null(op: str, record: dict[str, Any]) -> None:
    field = "tags" if "tags" in record else "name"
    expected = op in ("!=", "notIn", "isNull")
    assert hit(record, field, op, VALUES[op]) is expected


@pytest.mark.parametrize("op", sorted(COMPLEMENTS))
def test_negatives_are_exact_complements_on_all_sample_data(op: str) -> None:
    positive = COMPLEMENTS[op]
    for r in sample_records(60, seed=3):
        for field, value in (("name", "alpha"), ("rev", "1000"), ("tags", "red"),
                             ("seen", "2024-03-01"), ("active", "true")):
            v = None if op == "isNotNull" else ((value, "zzz") if op == "notIn" else value)
            assert hit(r, field, op, v) is not hit(r, field, positive, v), (r, field)


def test_empty_string_is_a_value_not_null() -> None:
    r = {"id": "1", "name": ""}
    assert hit(r, "name", "isNotNull") and hit(r, "name", "==", "")
    assert not hit(r, "name", "isNull")


# -- strings and case ------------------------------------------------------------------------

@pytest.mark.parametrize(("op", "value", "ci", "expected"), [
    ("==", "ACME corp", True, True), ("==", "ACME corp", False, False),
    ("==", "Acme Corp", False, True), ("!=", "ACME CORP", True, False),
    ("contains", "me co", True, True), ("contains", "ME CO", False, False),
    ("startsWith", "ac", True, True), ("startsWith", "ac", False, False),
    ("endsWith", "CORP", True, True), ("endsWith", "rp", False, True),
    ("contains", "%", True, False), ("contains", "_", True, False), ("contains", "*", True, False),
    ("in", ("x", "acme corp"), True, True), ("in", ("x", "acme corp"), False, False),
    ("notIn", ("x", "acme corp"), True, False), (">", "ACME", True, True),
    ("<", "b", True, True), (">", "a", True, True), (">", "a", False, False),
])
def test_string_operators_and_case(op: str, value: Any, ci: bool, expected: bool) -> None:
    assert hit({"id": "1", "name": "Acme Corp"}, "name", op, value, ci=ci) is expected


def test_casefold_is_unicode_aware() -> None:
    assert hit({"id": "1", "name": "Straße"}, "name", "==", "STRASSE")


def test_wildcards_are_literal() -> None:
    r = {"id": "1", "name": "50% off_now"}
    assert hit(r, "name", "contains", "50%") and hit(r, "name", "contains", "f_n")
    assert not hit(r, "name", "startsWith", "%")


def test_text_operators_use_the_string_form() -> None:
    r = {"id": "1", "rev": 1000, "active": True, "score": 2.5}
    assert hit(r, "rev", "startsWith", "10") and hit(r, "rev", "endsWith", "00")
    assert hit(r, "active", "contains", "ru") and hit(r, "score", "contains", ".5")


# -- numbers, booleans, dates ----------------------------------------------------------------

@pytest.mark.parametrize(("op", "value", "expected"), [
    ("==", "10", True), ("==", "10.0", True), ("==", 10, True), (">", "9", True),
    ("<", "9", False), (">=", "10", True), ("<=", "9.99", False), ("!=", "10", False),
    ("in", ("1", "10"), True), ("notIn", ("1", "10"), False), ("in", ("1", "2"), False),
])
def test_integers_compare_numerically_not_as_text(op: str, value: Any, expected: bool) -> None:
    for stored in (10, "10", 10.0):
        assert hit({"id": "1", "rev": stored}, "rev", op, value) is expected, stored


def test_numbers_are_decimal_exact() -> None:
    r = {"id": "1", "score": 0.1}
    assert hit(r, "score", "==", "0.1") and not hit(r, "score", ">", "0.1")
    assert hit({"id": "1", "score": "0.30"}, "score", "==", 0.3)


def test_unreadable_stored_values_equal_only_their_text() -> None:
    r = {"id": "1", "rev": "n/a"}
    assert not hit(r, "rev", ">", "0") and not hit(r, "rev", "<", "0")
    assert hit(r, "rev", "==", "N/A") and hit(r, "rev", "!=", "0")


@pytest.mark.parametrize(("stored", "op", "value", "expected"), [
    (True, "==", "true", True), (True, "==", "1", True), ("false", "==", False, True),
    (0, "==", "false", True), (True, "!=", "false", True), (False, ">", "false", False),
    (True, ">", "false", True), (True, "in", ("0", "1"), True),
])
def test_booleans(stored: Any, op: str, value: Any, expected: bool) -> None:
    assert hit({"id": "1", "active": stored}, "active", op, value) is expected


@pytest.mark.parametrize(("op", "value", "expected"), [
    ("==", "2020-06-15", True), ("<", "2020-06-16", True), (">", "2020-06-15", False),
    (">=", "2020-06-15", True), ("in", ("2020-01-01", "2020-06-15"), True),
])
def test_dates(op: str, value: str, expected: bool) -> None:
    assert hit({"id": "1", "born": "2020-06-15"}, "born", op, value) is expected


# A date-only value against a datetime field is that whole UTC day.
DAY = "2024-03-01"
INSTANTS = {
    "before": "2024-02-29T23:59:59Z",
    "start": "2024-03-01T00:00:00Z",
    "midday": "2024-03-01T12:00:00+00:00",
    "last second": "2024-03-01T23:59:59.999Z",
    "next day": "2024-03-02T00:00:00Z",
    "offset, same UTC day": "2024-03-01T22:00:00-01:00",  # 23:00 UTC
    "offset, next UTC day": "2024-03-01T22:00:00-03:00",  # 01:00 UTC on the 2nd
    "naive is UTC": "2024-03-01T05:00:00",
    "date-only stored": "2024-03-01",
}
WITHIN = {"start", "midday", "last second", "offset, same UTC day", "naive is UTC",
          "date-only stored"}


@pytest.mark.parametrize("label", sorted(INSTANTS))
def test_date_only_against_datetime_means_the_utc_day(label: str) -> None:
    r = {"id": "1", "seen": INSTANTS[label]}
    within = label in WITHIN
    after = label in ("next day", "offset, next UTC day")
    before = label == "before"
    assert hit(r, "seen", "==", DAY) is within
    assert hit(r, "seen", "!=", DAY) is not within
    assert hit(r, "seen", ">", DAY) is after
    assert hit(r, "seen", ">=", DAY) is (within or after)
    assert hit(r, "seen", "<", DAY) is before
    assert hit(r, "seen", "<=", DAY) is (within or before)
    assert hit(r, "seen", "in", ("2020-01-01", DAY)) is within


def test_datetimes_compare_by_instant_across_offsets() -> None:
    r = {"id": "1", "seen": "2024-03-01T10:00:00+02:00"}
    assert hit(r, "seen", "==", "2024-03-01T08:00:00Z")
    assert hit(r, "seen", "<", "2024-03-01T09:00:00Z")


# -- lists, groups, missing metadata ---------------------------------------------------------

def test_list_fields_match_positives_by_any_element_and_negatives_by_complement() -> None:
    r = {"id": "1", "tags": ["red", "Blue"]}
    assert hit(r, "tags", "==", "blue") and hit(r, "tags", "in", ("green", "RED"))
    assert hit(r, "tags", "startsWith", "bl") and not hit(r, "tags", "==", "green")
    assert not hit(r, "tags", "!=", "red") and hit(r, "tags", "!=", "green")
    assert not hit(r, "tags", "notIn", ("red",)) and hit(r, "tags", "isNotNull")


def test_or_of_and_groups() -> None:
    flt = (Group((Condition("rev", ">=", "1000"), Condition("name", "==", "acme"))),
           Group((Condition("name", "startsWith", "Ac"),)))
    assert matches({"id": "1", "rev": 5000, "name": "ACME"}, flt, ENTITY)
    assert matches({"id": "2", "rev": 1, "name": "Acorn"}, flt, ENTITY)
    assert not matches({"id": "3", "rev": 5000, "name": "Globex"}, flt, ENTITY)
    assert matches({"id": "4"}, (), ENTITY)


def test_without_metadata_the_stored_value_picks_the_type() -> None:
    bare = EntityInfo("bare")
    assert hit({"id": "1", "n": 10}, "n", ">", "9", entity=bare)  # numeric
    assert not hit({"id": "1", "n": "10"}, "n", ">", "9", entity=bare)  # text
    assert hit({"id": "1", "n": True}, "n", "==", "true", entity=None)


def test_matching_never_raises_on_odd_data() -> None:
    odd = [{"id": "1", "rev": {"a": 1}}, {"id": "2", "rev": [None, "x", 3]}, {"id": "3",
           "seen": 12}, {"id": "4", "born": "soon"}, {"id": "5", "score": float("nan")}]
    for r in odd:
        for op in OPERATORS:
            for field in ("rev", "seen", "born", "score"):
                hit(r, field, op, VALUES[op])


# -- ordering --------------------------------------------------------------------------------

def order(records: list[dict[str, Any]], *keys: OrderKey, ci: bool = True,
          nulls_first: bool = True, entity: EntityInfo | None = ENTITY) -> list[str]:
    key = sort_key(keys, entity, case_insensitive=ci, nulls_first=nulls_first)
    return [r["id"] for r in sorted(records, key=key)]


NAMES = [{"id": "a", "name": "beta"}, {"id": "b", "name": "Alpha"}, {"id": "c"},
         {"id": "d", "name": "alpha"}, {"id": "e", "name": None}, {"id": "f", "name": "Beta"}]


def test_strings_equal_under_the_collation_are_ties_broken_by_id() -> None:
    # "Alpha"/"alpha" and "beta"/"Beta" tie on a case-insensitive source, as they do in SQL
    assert order(NAMES, OrderKey("name")) == ["c", "e", "b", "d", "a", "f"]
    assert order(NAMES, OrderKey("name", descending=True)) == ["a", "f", "b", "d", "c", "e"]
    assert order(NAMES, OrderKey("name"), ci=False) == ["c", "e", "b", "f", "d", "a"]


def test_descending_is_the_reverse_with_nulls_flipping_ends() -> None:
    asc = order(NAMES, OrderKey("name"), OrderKey("id"))
    assert order(NAMES, OrderKey("name", True), OrderKey("id", True)) == asc[::-1]
    assert order(NAMES, OrderKey("name"), nulls_first=False)[-2:] == ["c", "e"]
    assert order(NAMES, OrderKey("name", True), nulls_first=False)[:2] == ["c", "e"]


def test_id_breaks_ties_ascending_even_when_descending() -> None:
    recs = [{"id": i, "rev": 1} for i in ("z", "b", "m")]
    assert order(recs, OrderKey("rev", True)) == ["b", "m", "z"]


def test_typed_orders() -> None:
    nums = [{"id": "a", "rev": "10"}, {"id": "b", "rev": 9}, {"id": "c", "rev": "abc"},
            {"id": "d", "rev": 100.5}, {"id": "e"}]
    assert order(nums, OrderKey("rev")) == ["e", "b", "a", "d", "c"]
    bools = [{"id": "a", "active": True}, {"id": "b", "active": "false"}]
    assert order(bools, OrderKey("active")) == ["b", "a"]
    times = [{"id": "a", "seen": "2024-03-01T10:00:00+02:00"},
             {"id": "b", "seen": "2024-03-01T09:00:00Z"}, {"id": "c", "seen": "2024-03-01"}]
    assert order(times, OrderKey("seen")) == ["c", "a", "b"]


def test_mixed_values_without_metadata_order_deterministically() -> None:
    recs = [{"id": str(i), "v": v} for i, v in enumerate(
        [3, "b", None, True, 2.5, "A", [1, 2], {"k": 1}, "", False, [], 10])]
    key = sort_key((OrderKey("v"),), None)
    first = [r["id"] for r in sorted(recs, key=key)]
    rnd = random.Random(5)
    for _ in range(20):
        shuffled = recs[:]
        rnd.shuffle(shuffled)
        assert [r["id"] for r in sorted(shuffled, key=key)] == first
    ranked = [recs[int(i)]["v"] for i in first]
    assert ranked[:2] == [[], None]  # both null: the id breaks the tie ("10" < "2")
    assert ranked[2:5] == [2.5, 3, 10]


def test_sorting_real_sample_data_never_raises_and_is_total() -> None:
    recs = sample_records(80, seed=11)
    fields = ["name", "rev", "score", "active", "born", "seen", "tags"]
    for f in fields:
        for desc in (False, True):
            for ci in (False, True):
                a = order(recs, OrderKey(f, desc), ci=ci)
                b = order(recs[::-1], OrderKey(f, desc), ci=ci)
                assert a == b, f


# -- the source's collation ----------------------------------------------------------------

PAD = Collation(case_insensitive=True, pad_space=True)
EXACT = Collation(case_insensitive=False, pad_space=False)


def hit_in(collation: Collation, value: Any, op: str, wanted: Any) -> bool:
    flt = (Group((Condition("name", op, wanted),)),)  # type: ignore[arg-type]
    return matches({"id": "1", "name": value}, flt, ENTITY, collation=collation)


@pytest.mark.parametrize(("value", "op", "wanted", "pad", "exact"), [
    ("padtest ", "==", "padtest", True, False),
    ("PadTest  ", "in", ("padtest",), True, False),
    ("padtest ", "!=", "PADTEST", False, True),
    ("a ", ">", "a", False, True),
    ("", "==", "   ", True, False),
    ("padtest ", "endsWith", "test", False, False),  # LIKE sees every character
    ("padtest ", "endsWith", "test ", True, True),
    (" padtest", "==", "padtest", False, False),  # only trailing spaces are padded
    ("padtest\t", "==", "padtest", False, False),  # only U+0020
    ("Straße", "==", "STRASSE", True, False),
    ("é", "==", "e", False, False),  # accents always count
])
def test_text_compares_by_the_sources_collation(value: str, op: str, wanted: Any, pad: bool,
                                                exact: bool) -> None:
    assert hit_in(PAD, value, op, wanted) is pad
    assert hit_in(EXACT, value, op, wanted) is exact


def test_sorting_ties_values_equal_under_pad_space_and_breaks_them_by_id() -> None:
    recs = [{"id": "3", "name": "New York"}, {"id": "1", "name": "new york "},
            {"id": "2", "name": "Boston"}, {"id": "4", "name": ""}, {"id": "0", "name": None}]
    by_pad = sorted(recs, key=sort_key((OrderKey("name"),), ENTITY, collation=PAD))
    assert [r["id"] for r in by_pad] == ["0", "4", "2", "1", "3"]
    by_exact = sorted(recs, key=sort_key((OrderKey("name"),), ENTITY, collation=EXACT))
    assert [r["id"] for r in by_exact] == ["0", "4", "2", "3", "1"]


@pytest.mark.parametrize(("seen", "op", "day", "expected"), [
    ("9999-12-31T23:59:59+00:00", "==", "9999-12-31", True),
    ("9999-12-31T23:59:59+00:00", ">", "9999-12-31", False),
    ("9999-12-31T23:59:59+00:00", "<=", "9999-12-31", True),
    ("9999-12-31T23:59:59+00:00", "!=", "9999-12-31", False),
    ("2024-02-29T12:00:00+00:00", "<", "9999-12-31", True),
    ("0001-01-01T00:00:00+00:00", "<", "0001-01-01", False),
    ("0001-01-01T00:00:00+00:00", "==", "0001-01-01", True),
    ("0001-01-01T00:00:00+00:00", ">", "0001-01-01", False),
])
def test_date_only_values_at_the_calendars_ends_are_whole_days(seen: str, op: str, day: str,
                                                               expected: bool) -> None:
    assert hit({"id": "1", "seen": seen}, "seen", op, day) is expected


def test_capabilities_and_their_collation_never_disagree() -> None:
    from connectors.dataservice.query import capabilities as ds
    from connectors.slingr.query import capabilities as slingr
    from connectors.sugarcrm.query import capabilities as sugar

    for caps in (ds(1000), slingr(1000), sugar(100)):
        c = caps.order
        assert (caps.case_insensitive, caps.nulls_first, caps.id_key) == (
            c.case_insensitive, c.nulls_first, c.id_key)
    assert sugar(100).order.pad_space and ds(1000).order.pad_space
    assert not slingr(1000).order.pad_space and not slingr(1000).case_insensitive
    plain = Capabilities(operators=frozenset(), or_groups=False, sort=False, multi_sort=False,
                         max_page=1, counts=False, case_insensitive=False)
    assert plain.order == Collation(case_insensitive=False)
