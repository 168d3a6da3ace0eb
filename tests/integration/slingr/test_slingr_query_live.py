"""Pushed filters, OR groups, sort, paging and the id-offset walk, against the emulator's data
and an oracle written here from the gateway's rules (case-sensitive for this source)."""

from decimal import Decimal

import pytest
from aiohttp import web

from connectors.emulation.server import start
from gateway.connector import PushedQuery
from gateway.errors import BackendFailure
from gateway.query.model import Condition, Group, OrderKey

E = "companies"
BY_ID = (OrderKey("id"),)


def values(record, path):
    head, _, rest = path.partition(".")
    v = record.get(head)
    if rest:
        items = v if isinstance(v, list) else [v] if isinstance(v, dict) else []
        return [i.get(rest) for i in items if isinstance(i, dict)]
    return list(v) if isinstance(v, list) else [v]


def typed(v):
    if isinstance(v, bool) or v is None:
        return v
    try:
        return Decimal(str(v))
    except ArithmeticError:
        return str(v)


def oracle(record, cond):
    vals = [v for v in values(record, cond.field) if v is not None]
    op, want = cond.operator, cond.value
    if op == "isNull":
        return not vals
    if op == "isNotNull":
        return bool(vals)
    if op in ("!=", "notIn"):
        return not oracle(record, Condition(cond.field, "==" if op == "!=" else "in", want))
    wants = want if op == "in" else (want,)
    for v in vals:
        if op in ("contains", "startsWith", "endsWith"):
            s = str(v)
            if {"contains": want in s, "startsWith": s.startswith(want),
                "endsWith": s.endswith(want)}[op]:
                return True
            continue
        for w in wants:
            if isinstance(v, bool):
                a, b = v, w if isinstance(w, bool) else str(w).lower() in ("true", "1")
            else:
                a, b = typed(v), typed(w)
            if type(a) is not type(b):
                a, b = str(v), str(w)
            if {"==": a == b, "in": a == b, ">": a > b, ">=": a >= b,
                "<": a < b, "<=": a <= b}[op]:
                return True
    return False


async def walk(conn, pushed, limit=None):
    out, offset = [], 0
    for _ in range(10_000):
        page = await conn.query(await conn.describe(E), pushed, offset,
                                limit or conn.capabilities.max_page)
        out.extend(page.records)
        offset += len(page.records)
        if not page.more:
            return out
    raise AssertionError("paging did not end")


def cases(records):
    names = sorted(r["name"] for r in records if r.get("name"))
    mid = names[len(names) // 2]
    staff = sorted(r["numberOfEmployees"] for r in records if r.get("numberOfEmployees"))
    met = sorted(r["lastMeeting"] for r in records if r.get("lastMeeting"))
    emails = [r["contactInformation"]["email"] for r in records
              if (r.get("contactInformation") or {}).get("email")]
    return [
        Condition("name", "==", mid), Condition("name", "!=", mid),
        Condition("name", "in", (mid, names[3], "ACME, Inc")),
        Condition("name", "notIn", (mid, names[3])),
        Condition("name", "contains", mid[1:3]), Condition("name", "startsWith", mid[:2]),
        Condition("name", "endsWith", mid[-2:]),
        Condition("name", ">", mid), Condition("name", "<=", mid),
        Condition("type", "==", "a"), Condition("type", "!=", "b"),
        Condition("type", "in", ("a", "c")), Condition("type", "notIn", ("a", "c")),
        Condition("type", "isNull"), Condition("type", "isNotNull"),
        Condition("numberOfEmployees", ">", staff[len(staff) // 2]),
        Condition("numberOfEmployees", "<=", str(staff[len(staff) // 3])),
        Condition("numberOfEmployees", "isNull"),
        Condition("rating", ">=", "2.5"), Condition("rating", "==", "2.70"),
        Condition("isCustomer", "==", True), Condition("isCustomer", "!=", "true"),
        Condition("lastMeeting", "<", met[len(met) // 2]),
        Condition("contactInformation.email", "==", emails[0]),
        Condition("contactInformation.email", "endsWith", ".com"),
        Condition("addresses.state", "==", "CO"), Condition("addresses.state", "!=", "CO"),
        Condition("tags", "in", ("Reseller", "Partner")),
    ]


@pytest.fixture
async def data(app, emu):
    return await app.describe(E), emu.store.all(E)


async def test_every_operator_matches_the_oracle(app, data):
    info, records = data
    wrong, sizes = [], []
    for cond in cases(records):
        assert app.pushable(info, cond), cond
        flt = (Group((cond,)),)
        want = sorted(r["id"] for r in records if oracle(r, cond))
        got = [r["id"] for r in await walk(app, PushedQuery(filter=flt, order_by=BY_ID))]
        if got != want or await app.count(await app.describe(E), flt) != len(want):
            wrong.append((cond, len(got), len(want)))
        sizes.append(len(want))
    assert wrong == []
    assert sum(0 < n < len(records) for n in sizes) >= len(sizes) - 3  # the cases discriminate


async def test_or_of_and_groups_is_pushed_whole_in_one_call(app, emu, data):
    _, records = data
    flt = (Group((Condition("type", "==", "a"), Condition("numberOfEmployees", ">", 100))),
           Group((Condition("isCustomer", "==", True), Condition("name", "startsWith", "B"))),
           Group((Condition("addresses.state", "in", ("CA", "NV")),)))
    want = {r["id"] for r in records if any(all(oracle(r, c) for c in g.conditions)
                                            for g in flt)}
    emu.reset_log()
    page = await app.query(await app.describe(E), PushedQuery(filter=flt, order_by=BY_ID), 0, 1000)
    lists = [c for c in emu.log if c.method == "GET" and c.path.endswith(f"/data/{E}")]
    assert len(lists) == 1 and lists[0].query["_query"].startswith("or(and(filter(")
    assert {r["id"] for r in page.records} == want and 0 < len(want) < len(records)


async def test_inferred_strings_push_no_values_since_one_may_be_a_choice(make, emu):
    conn = make(typed=False)
    info = await conn.describe(E)
    assert info.field("numberOfEmployees").type == "integer"
    assert conn.pushable(info, Condition("numberOfEmployees", ">", 5))
    # `state` is a choice Slingr would answer 400 for "ACTIVE"; from a sample it looks like text
    for name in ("name", "state"):
        assert not conn.pushable(info, Condition(name, "==", "ACTIVE"))
        assert not conn.pushable(info, Condition(name, "contains", "x"))


async def test_one_sort_key_with_numeric_offsets_and_a_cap(make, emu):
    conn = make(maxPerCall=7)
    order = (OrderKey("numberOfEmployees", descending=True),)
    got = await walk(conn, PushedQuery(order_by=order))
    assert len({r["id"] for r in got}) == 250
    sizes = [int(c.query["_size"]) for c in emu.log if "_size" in c.query]
    assert max(sizes) == 7
    staff = [r.get("numberOfEmployees") for r in got]
    present = [s for s in staff if s is not None]
    assert present == sorted(present, reverse=True)


async def test_id_offset_walk_reads_everything_newest_first(app, emu):
    pages = [p async for p in app.walk(E, (Group((Condition("type", "isNotNull"),)),),
                                       ("name",), size=40)]
    ids = [r["id"] for p in pages for r in p]
    want = sorted((r["id"] for r in emu.store.all(E) if r.get("type")), reverse=True)
    assert ids == want and len(pages) > 2
    offsets = [c.query.get("_offset") for c in emu.log if c.path.endswith(f"/data/{E}")]
    assert all(o is None or len(o) == 24 for o in offsets)  # id offsets, never numbers


async def test_a_cursor_that_does_not_advance_is_a_backend_error(make):
    async def stuck(request: web.Request) -> web.Response:
        if request.path.endswith("/auth/login"):
            return web.json_response({"token": "t" * 32})
        item = {"id": "5685c1803b063a0007604003", "version": 0, "label": "x"}
        return web.json_response({"total": 50, "offset": item["id"], "items": [item]})

    fake = web.Application()
    fake.router.add_route("*", "/{tail:.*}", stuck)
    runner, base = await start(fake)
    try:
        conn = make(baseUrl=f"{base}/dev/runtime/api")
        with pytest.raises(BackendFailure, match="does not advance"):
            async for _ in conn.walk(E, size=1):
                pass
    finally:
        await runner.cleanup()
