"""The differences issue #10 found, as plain examples on the emulators: each query is asked as is
and made unpushable (``strategies.finished``), and both answers must be the expected one.

Trailing spaces on PAD SPACE backends, every date operator at 0001-01-01 and 9999-12-31, Slingr's
dotted fields (filter, orderBy, fields, and writes with the demo config), Slingr choice values
that are not option names, and the Data Service's long text, which is not filterable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.backends import HARNESSES
from tests.contract.conftest import AUTH, ORG
from tests.differential.live import SPECS, Live, Spec
from tests.differential.strategies import finished

SPEC = {s.name: s for s in SPECS}


def ask(live: Live, spec: Spec, filter: list[Any], order: list[Any] | None = None,
        **extra: Any) -> list[dict[str, Any]]:
    """The records of one query, asked as is and finished by the gateway: the same, or fail."""
    body = {"filter": filter, "orderBy": order or [], "pageSize": 1000, **extra}
    status, pushed = live.run(live.query(spec, body))
    status_f, done = live.run(live.query(spec, {**body, "filter": finished(spec, filter)}))
    assert status == status_f == 200, (pushed, done)
    assert pushed["data"] == done["data"], (body, pushed["data"], done["data"])
    assert pushed["pagination"]["totalSize"] == len(pushed["data"])
    return list(pushed["data"])


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [str(r["id"]).lower() for r in records]


def by_value(live: Live, field: str, *values: Any) -> set[str]:
    return {rid for rid, row in live.loaded.items() if row.get(field) in values}


# -- trailing spaces ------------------------------------------------------------------------

PAD_NAMES = ["padtest ", "padtest", "PadTest  ", "padtest x", " padtest", "new york ",
             "New York", "Boston"]


@pytest.mark.parametrize(("spec", "field", "pads"), [
    (SPEC["sugarcrm/Accounts"], "name", True),
    (SPEC["dataservice/Athletes"], "Name", True),
    (SPEC["slingr/companies"], "name", False),
])
def test_trailing_spaces_count_alike_pushed_and_finished(live: Live, spec: Spec, field: str,
                                                         pads: bool) -> None:
    live.load(spec, [{field: name} for name in PAD_NAMES])
    got = ids(ask(live, spec, [[{"field": field, "operator": "==", "value": "padtest"}]]))
    want = ({"padtest ", "padtest", "PadTest  "} if pads else {"padtest"})
    assert set(got) == by_value(live, field, *want)
    # LIKE compares every character: "padtest " ends with " ", "padtest" does not
    got = ids(ask(live, spec, [[{"field": field, "operator": "endsWith", "value": "test"}]]))
    assert set(got) == by_value(live, field, "padtest", " padtest")
    ordered = ids(ask(live, spec, [], [{"field": field, "order": "ASC"}]))
    ny = by_value(live, field, "new york ", "New York")
    at = sorted(ordered.index(rid) for rid in ny)
    if pads:  # one tie group under the collation: side by side
        assert at[1] == at[0] + 1, ordered


# -- the calendar's ends ----------------------------------------------------------------------

LO, HI = "0001-01-01", "9999-12-31"
# (spec, field, stored value at each end, whether the field may be null)
ENDS = [
    (SPEC["sugarcrm/Accounts"], "date_entered", ("0001-01-01T00:00:00+00:00",
                                                "9999-12-31T23:59:59+00:00"), False),
    (SPEC["sugarcrm/Contacts"], "birthdate", (LO, HI), True),
    (SPEC["dataservice/Athletes"], "LastSeen", ("0001-01-01T00:00:00+00:00",
                                               "9999-12-31T23:59:59+00:00"), True),
    (SPEC["dataservice/Athletes"], "Born", (LO, HI), True),
    (SPEC["slingr/contacts"], "birthDate", (LO, HI), True),
]
MIDDLE = {"date": "2024-02-29", "datetime": "2024-02-29T12:00:00+00:00"}


@pytest.mark.parametrize(("spec", "field", "ends", "nullable"), ENDS,
                         ids=[f"{s.name}.{f}" for s, f, _, _ in ENDS])
def test_every_date_operator_answers_at_both_ends_of_the_calendar(
        live: Live, spec: Spec, field: str, ends: tuple[str, str], nullable: bool) -> None:
    kind = "datetime" if "T" in ends[0] else "date"
    values = {"lo": ends[0], "mid": MIDDLE[kind], "hi": ends[1]} | (
        {"null": None} if nullable else {})
    name = next(f for f, r in spec.roles.items() if r == "name")
    live.load(spec, [{name: label, field: value} for label, value in values.items()])
    label_of = {rid: row[name] for rid, row in live.loaded.items()}
    expect = {
        (LO, "=="): {"lo"}, (LO, "!="): {"mid", "hi", "null"}, (LO, ">"): {"mid", "hi"},
        (LO, ">="): {"lo", "mid", "hi"}, (LO, "<"): set(), (LO, "<="): {"lo"},
        (HI, "=="): {"hi"}, (HI, "!="): {"lo", "mid", "null"}, (HI, ">"): set(),
        (HI, ">="): {"hi"}, (HI, "<"): {"lo", "mid"}, (HI, "<="): {"lo", "mid", "hi"},
    }
    for (day, op), want in expect.items():
        got = ask(live, spec, [[{"field": field, "operator": op, "value": day}]])
        assert {label_of[rid] for rid in ids(got)} == want & set(values), (day, op)


# -- Slingr: dotted fields and choices --------------------------------------------------------

def _companies(live: Live) -> Spec:
    spec = SPEC["slingr/companies"]
    live.load(spec, [
        {"name": "b-mail", "contactInformation": {"email": "b@x.io"}, "state": "active"},
        {"name": "no-mail", "contactInformation": None, "state": "inactive"},
        {"name": "a-mail", "contactInformation": {"email": "a@x.io"}, "state": None},
        {"name": "phone-only", "contactInformation": {"phoneNumber": "123"}, "state": "active"},
    ])
    return spec


def _names(records: list[dict[str, Any]], live: Live) -> list[str]:
    return [live.loaded[rid]["name"] for rid in ids(records)]


def test_slingr_dotted_fields_filter_sort_and_show_when_the_gateway_finishes(
        live: Live) -> None:
    spec = _companies(live)
    email = "contactInformation.email"
    has = ask(live, spec, [[{"field": email, "operator": "isNotNull"}]])
    assert sorted(_names(has, live)) == ["a-mail", "b-mail"]
    lacks = ask(live, spec, [[{"field": email, "operator": "isNull"}]])
    assert sorted(_names(lacks, live)) == ["no-mail", "phone-only"]
    for order, want in (("ASC", ["a-mail", "b-mail"]), ("DESC", ["b-mail", "a-mail"])):
        got = ask(live, spec, [], [{"field": email, "order": order}, {"field": "name"}])
        names = _names(got, live)
        assert [n for n in names if n.endswith("-mail") and n != "no-mail"] == want
        # nulls first ascending, last descending
        assert (names.index("no-mail") < names.index("a-mail")) == (order == "ASC")
    shown = ask(live, spec, [[{"field": email, "operator": "endsWith", "value": "@x.io"}]],
                fields=[email, "name"])
    assert sorted(r[email] for r in shown) == ["a@x.io", "b@x.io"]


@pytest.mark.parametrize(("cond", "want"), [
    ({"operator": "==", "value": "ACTIVE"}, set()),
    ({"operator": "==", "value": "active"}, {"b-mail", "phone-only"}),
    ({"operator": "!=", "value": "zz"}, {"b-mail", "no-mail", "a-mail", "phone-only"}),
    ({"operator": "in", "value": ["active", "zz"]}, {"b-mail", "phone-only"}),
    ({"operator": "notIn", "value": ["zz"]}, {"b-mail", "no-mail", "a-mail", "phone-only"}),
    ({"operator": "notIn", "value": ["active", "ZZ"]}, {"no-mail", "a-mail"}),
])
def test_slingr_choice_values_outside_the_options_get_the_filter_rules_answer(
        live: Live, cond: dict[str, Any], want: set[str]) -> None:
    spec = _companies(live)
    got = ask(live, spec, [[{"field": "state", **cond}]])
    assert set(_names(got, live)) == want


async def test_slingr_choices_and_nested_writes_with_the_demo_config(
        aiohttp_server: Any, make_gateway: Any) -> None:
    """The demo config writes ``contactInformation``; an entity typed from a sample (no
    options known) still answers ``state == "ACTIVE"`` instead of passing Slingr's 400."""
    h = HARNESSES["slingr"]()
    await h.start(aiohttp_server)
    demo = yaml.safe_load((Path(__file__).parents[2] / "config" / "demo.yaml").read_text())
    entities = demo["sources"]["slingr"]["entities"]
    gw = await make_gateway({"slingr": h.source(entities=entities),
                             "guessed": h.source(entities=None)})
    body = {"name": "Dotted Inc", "state": "active",
            "contactInformation": {"email": "dotted@x.io"}}
    resp = await gw.post("/v1/records/slingr/companies", params={"orgId": ORG}, json=body,
                         headers=AUTH)
    made = await resp.json()
    assert resp.status == 201, made
    for source in ("slingr", "guessed"):
        for cond, hit in (({"operator": "==", "value": "ACTIVE"}, False),
                          ({"operator": "!=", "value": "zz"}, True)):
            flt = [[{"field": "state", **cond},
                    {"field": "contactInformation.email", "operator": "==",
                     "value": "dotted@x.io"}]]
            resp = await gw.post(f"/v1/records/{source}/companies/query",
                                 params={"orgId": ORG}, json={"filter": flt}, headers=AUTH)
            got = await resp.json()
            assert resp.status == 200, (source, cond, got)
            assert [r["id"] for r in got["data"]] == ([made["data"]["id"]] if hit else [])


# -- Data Service long text --------------------------------------------------------------------

def test_data_service_long_text_is_not_filtered_on_its_size_marker(live: Live) -> None:
    spec = SPEC["dataservice/Athletes"]
    live.load(spec, [{"Name": "Writer", "Bio": "Long story."}])
    body = {"filter": [[{"field": "Bio", "operator": "contains", "value": "Length"}]]}
    status, got = live.run(live.query(spec, body))
    assert status == 400 and got["details"][0]["path"] == "filter[0][0].field", got
    status, got = live.run(live.query(spec, {"fields": ["Bio"]}))
    assert status == 200 and got["data"][0]["Bio"] == "HasValue=true Length=11", got
