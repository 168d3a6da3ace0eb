"""Every operator, OR groups, multi-key order and counts, pushed to the emulator and checked
against the gateway's rules evaluated here on the same data."""

from collections import Counter

import pytest
from sugar_live import TOKEN_PATH, walk
from sugar_oracle import ordered, select

from gateway.connector import PushedQuery
from gateway.errors import NotFound
from gateway.query.model import Condition, Group, OrderKey

ENTITY = "Accounts"
BY_NAME = (OrderKey("name"), OrderKey("id"))


@pytest.fixture
async def data(crm):
    info = await crm.describe(ENTITY)
    records = await walk(crm, ENTITY, PushedQuery(order_by=(OrderKey("id"),)))
    types = {n: f.type for n, f in info.fields.items()}
    return info, records, types


def _common(records, field):
    values = Counter(r.get(field) for r in records if r.get(field))
    return [v for v, _ in values.most_common(3)]


def _cases(records):
    industries = _common(records, "industry")
    name = sorted(r["name"] for r in records if r.get("name"))[len(records) // 2]
    moments = sorted(r["date_entered"] for r in records if r.get("date_entered"))
    moment = moments[len(moments) // 2]
    day = moment[:10]
    return [
        Condition("industry", "==", industries[0].swapcase()),
        Condition("industry", "!=", industries[0]),
        Condition("industry", "in", (industries[0], industries[1].upper())),
        Condition("industry", "notIn", (industries[0], industries[1])),
        Condition("name", "contains", name[1:4].lower()),
        Condition("name", "startsWith", name[:2].upper()),
        Condition("name", "endsWith", name[-3:]),
        Condition("industry", "isNull"),
        Condition("industry", "isNotNull"),
        Condition("name", ">", name.lower()),
        Condition("name", ">=", name.upper()),
        Condition("name", "<", name),
        Condition("name", "<=", name),
        Condition("date_entered", "==", day),
        Condition("date_entered", "!=", day),
        Condition("date_entered", ">", day),
        Condition("date_entered", ">=", day),
        Condition("date_entered", "<", day),
        Condition("date_entered", "<=", day),
        Condition("date_entered", ">", moment),
        Condition("date_entered", ">=", moment),
        Condition("date_entered", "<", moment),
        Condition("headcount_c", "==", _common(records, "headcount_c")[0]),
        Condition("headcount_c", "!=", _common(records, "headcount_c")[0]),
        Condition("headcount_c", ">", str(_common(records, "headcount_c")[0])),
        Condition("headcount_c", "in", tuple(_common(records, "headcount_c")[:2])),
        Condition("headcount_c", "notIn", tuple(_common(records, "headcount_c")[:2])),
        Condition("revenue_c", "<=", _common(records, "revenue_c")[0]),
    ]


def _contact_cases(records):
    birthdays = sorted(r["birthdate"] for r in records if r.get("birthdate"))
    mid = birthdays[len(birthdays) // 2]
    scores = _common(records, "score_c")
    return [
        Condition("birthdate", "==", mid),
        Condition("birthdate", "!=", mid),
        Condition("birthdate", "<", mid),
        Condition("birthdate", ">=", mid),
        Condition("do_not_call", "==", True),
        Condition("do_not_call", "!=", False),
        Condition("score_c", ">", scores[0]),
        Condition("last_name", "startsWith", "s"),
        Condition("title", "isNull"),
    ]


async def test_typed_fields_give_the_gateway_answer(crm):
    info = await crm.describe("Contacts")
    types = {n: f.type for n, f in info.fields.items()}
    records = await walk(crm, "Contacts", PushedQuery(order_by=(OrderKey("id"),)))
    order = (OrderKey("last_name"), OrderKey("id"))
    wrong = []
    for cond in _contact_cases(records):
        assert crm.pushable(info, cond), cond
        flt = (Group((cond,)),)
        want = [r["id"] for r in ordered(select(records, flt, types), order, types)]
        pushed = PushedQuery(filter=flt, order_by=order)
        got = [r["id"] for r in await walk(crm, "Contacts", pushed)]
        if got != want or await crm.count(await crm.describe("Contacts"), flt) != len(want):
            wrong.append((cond, len(got), len(want)))
    assert wrong == []


async def test_login_once_and_records_are_clean(crm, emu, data):
    _, records, _ = data
    assert len(records) == 250
    assert all("id" in r and "_acl" not in r and "_module" not in r for r in records)
    assert emu.calls("POST", TOKEN_PATH) == 1


async def test_every_operator_gives_the_gateway_answer(crm, data):
    info, records, types = data
    wrong, sizes = [], []
    for cond in _cases(records):
        assert crm.pushable(info, cond), cond
        flt = (Group((cond,)),)
        want = [r["id"] for r in ordered(select(records, flt, types), BY_NAME, types)]
        got = [r["id"] for r in await walk(crm, ENTITY, PushedQuery(filter=flt, order_by=BY_NAME))]
        if got != want or await crm.count(await crm.describe(ENTITY), flt) != len(want):
            wrong.append((cond, len(got), len(want)))
        sizes.append(len(want))
    assert wrong == []
    assert sum(0 < n < len(records) for n in sizes) >= len(sizes) - 2  # the cases discriminate


async def test_or_of_and_groups(crm, data):
    _, records, types = data
    industries = _common(records, "industry")
    flt = (
        Group((Condition("industry", "==", industries[0]), Condition("name", "<", "M"))),
        Group((Condition("industry", "!=", industries[1]), Condition("name", "startsWith", "a"))),
    )
    want = {r["id"] for r in select(records, flt, types)}
    got = {r["id"] for r in await walk(crm, ENTITY, PushedQuery(filter=flt, order_by=BY_NAME))}
    assert got == want and 0 < len(want) < len(records)
    assert await crm.count(await crm.describe(ENTITY), flt) == len(want)


async def test_multi_key_order_with_mixed_directions(crm, data):
    _, records, types = data
    keys = (OrderKey("industry"), OrderKey("name", descending=True), OrderKey("id"))
    got = [r["id"] for r in await walk(crm, ENTITY, PushedQuery(order_by=keys))]
    assert got == [r["id"] for r in ordered(records, keys, types)]


async def test_fields_limit_the_answer_and_id_is_always_there(crm):
    page = await crm.query(await crm.describe(ENTITY),
                           PushedQuery(fields=("name",), order_by=BY_NAME), 0, 5)
    assert len(page.records) == 5 and page.more
    assert all(set(r) == {"id", "name"} for r in page.records)


async def test_unknown_module_is_not_found(crm):
    with pytest.raises(NotFound):
        await crm.describe("Nope")
    with pytest.raises(NotFound):
        await crm.get("Nope", "1", None)


async def test_entities_come_from_metadata_with_types(crm):
    names = {e.name for e in await crm.entities()}
    assert {"Accounts", "Contacts"} <= names
    info = await crm.describe(ENTITY)
    assert info.field("date_entered").type == "datetime"
    assert info.field("id") is not None


async def test_server_side_page_cap_is_walked_without_gaps(crm, emu):
    emu.max_list_limit = 20  # silently clamps max_num=50 to 20
    page = await crm.query(await crm.describe(ENTITY), PushedQuery(order_by=BY_NAME), 0, 50)
    assert len(page.records) == 20 and page.more
    ids = [r["id"] for r in await walk(crm, ENTITY, PushedQuery(order_by=BY_NAME))]
    assert len(ids) == len(set(ids)) == 250


async def test_configured_entities_restrict_and_describe(make):
    conn = make(entities={"Accounts": {"fields": {"employees": {"type": "integer"}}}})
    assert [e.name for e in await conn.entities()] == ["Accounts"]
    info = await conn.describe("Accounts")
    assert info.field("employees").type == "integer"  # the config overrides the metadata
    assert info.field("industry") is not None  # the rest still comes from Sugar
    with pytest.raises(NotFound):
        await conn.describe("Contacts")
