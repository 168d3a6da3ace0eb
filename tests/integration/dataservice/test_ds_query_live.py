"""Pushed queries against the emulator: every operator vs an independent oracle, OR in one call."""

import pytest
from ds_live import query_path, walk

from gateway.connector import PushedQuery
from gateway.query.model import Condition, Group, OrderKey
from tests.contract.oracle import expected

TYPES = {"Name": "string", "Country": "string", "Age": "integer", "Height": "number",
         "Born": "date", "LastSeen": "datetime", "Active": "boolean", "id": "string"}
OPS = ["==", "!=", ">", ">=", "<", "<=", "in", "notIn", "contains", "startsWith", "endsWith",
       "isNull", "isNotNull"]


def rows(emu, entity="Athletes"):
    return [{"id": r["Id"], **{k: v for k, v in r.items() if k != "Id"}}
            for r in emu.store.all(entity)]


def sample(data, field, op):
    values = sorted({str(r[field]) for r in data if r.get(field) not in (None, "")})
    mid = values[len(values) // 2]
    if op in ("in", "notIn"):
        return tuple(values[: max(2, len(values) // 3)])
    if op in ("contains", "endsWith"):
        return mid[-3:] if op == "endsWith" else mid[1:3]
    if op == "startsWith":
        return mid[:2].swapcase()
    return mid


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("field", ["Name", "Country", "Age", "Height", "Born", "LastSeen",
                                   "Active"])
async def test_every_pushed_operator_matches_the_oracle(ds, emu, field, op):
    info = await ds.describe("Athletes")
    data = rows(emu)
    value = None if op in ("isNull", "isNotNull") else sample(data, field, op)
    cond = Condition(field, op, value)
    if not ds.pushable(info, cond):
        pytest.skip(f"{field} {op} stays in the gateway")
    got = await walk(ds, "Athletes", PushedQuery(filter=(Group((cond,)),)))
    jv = list(value) if isinstance(value, tuple) else value
    want = expected(data, TYPES, [[{"field": field, "operator": op, "value": jv}]])
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in want)


async def test_date_only_on_a_datetime_field_is_the_utc_day(ds, emu):
    data = rows(emu)
    day = sorted(str(r["LastSeen"])[:10] for r in data if r.get("LastSeen"))[50]
    for op in ("==", "!=", ">", ">=", "<", "<="):
        got = await walk(ds, "Athletes", PushedQuery(filter=(Group((
            Condition("LastSeen", op, day),)),)))
        want = expected(data, TYPES, [[{"field": "LastSeen", "operator": op, "value": day}]])
        assert sorted(r["id"] for r in got) == sorted(r["id"] for r in want), op


async def test_or_groups_are_pushed_in_one_call(ds, emu):
    await ds.describe("Athletes")
    emu.reset_log()
    flt = (Group((Condition("Country", "==", "Kenya"), Condition("Age", ">", 25))),
           Group((Condition("Country", "isNull"),)))
    page = await ds.query(await ds.describe("Athletes"), PushedQuery(filter=flt), 0, 1000)
    assert emu.calls("POST", query_path("Athletes")) == 1
    want = expected(rows(emu), TYPES, [
        [{"field": "Country", "operator": "==", "value": "Kenya"},
         {"field": "Age", "operator": ">", "value": 25}],
        [{"field": "Country", "operator": "isNull"}]])
    assert {r["id"] for r in page.records} == {r["id"] for r in want} and want


async def test_id_in_filters_order_and_fields(ds, emu):
    data = rows(emu)
    some = sorted(r["id"] for r in data)[:3]
    pushed = PushedQuery(filter=(Group((Condition("id", "in", tuple(some)),)),),
                         order_by=(OrderKey("id", descending=True),), fields=("Name",))
    page = await ds.query(await ds.describe("Athletes"), pushed, 0, 10)
    # Id order is SQL Server's uniqueidentifier order (reported to the lead), not string order.
    assert sorted(r["id"] for r in page.records) == some
    assert all(set(r) == {"id", "Name"} for r in page.records)
    assert await ds.count(await ds.describe("Athletes"), pushed.filter) == 3
    one = await ds.get("Athletes", some[0], ("Name",))
    assert set(one) == {"id", "Name"} and one["id"] == some[0]


async def test_multi_key_order_matches_the_oracle(ds, emu):
    order = (OrderKey("Country", descending=True), OrderKey("Name"), OrderKey("id"))
    got = await walk(ds, "Athletes", PushedQuery(order_by=order), limit=37)
    want = expected(rows(emu), TYPES, None, [{"field": "Country", "order": "DESC"},
                                             {"field": "Name"}])
    # Ties on (Country, Name) follow SQL Server's uniqueidentifier order, not string order.
    def keys(rs):
        return [((r.get("Country") or "").casefold(), r["Name"].casefold()) for r in rs]
    assert keys(got) == keys(want) and {r["id"] for r in got} == {r["id"] for r in want}
