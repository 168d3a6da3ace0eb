"""Tokens against the emulator: expiry mid-walk, one refresh for many callers, rotation, refusal."""

import asyncio

import pytest
from sugar_live import TOKEN_PATH, walk

from gateway.connector import PushedQuery
from gateway.errors import BackendAuthFailed
from gateway.query.model import OrderKey

ORDER = PushedQuery(order_by=(OrderKey("name"), OrderKey("id")))


def token_bodies(emu):
    return [c.body for c in emu.log if c.method == "POST" and c.path == TOKEN_PATH]


async def test_token_expiry_mid_walk_is_renewed_silently(crm, emu):
    first = await crm.query(await crm.describe("Accounts"), ORDER, 0, 50)
    emu.expire_tokens()
    rest = await walk(crm, "Accounts", ORDER)
    assert [r["id"] for r in rest[:50]] == [r["id"] for r in first.records]
    assert len(rest) == 250
    grants = [b["grant_type"] for b in token_bodies(emu)]
    assert grants == ["password", "refresh_token"]


async def test_twenty_calls_with_an_expired_token_cost_one_token_call(crm, emu):
    await crm.query(await crm.describe("Accounts"), ORDER, 0, 1)
    before = emu.calls("POST", TOKEN_PATH)
    emu.expire_tokens()
    info = await crm.describe("Accounts")  # cached: no call
    pages = await asyncio.gather(*(crm.query(info, ORDER, i, 5) for i in range(20)))
    assert all(len(p.records) == 5 for p in pages)
    assert emu.calls("POST", TOKEN_PATH) - before == 1


async def test_rotated_refresh_token_is_the_one_used_next(crm, emu):
    await crm.query(await crm.describe("Accounts"), ORDER, 0, 1)
    for _ in range(3):
        emu.expire_tokens()
        await crm.query(await crm.describe("Accounts"), ORDER, 0, 1)
    bodies = token_bodies(emu)
    assert [b["grant_type"] for b in bodies] == ["password"] + ["refresh_token"] * 3
    used = [b["refresh_token"] for b in bodies[1:]]
    assert len(set(used)) == 3  # each refresh used the token the previous grant returned
    statuses = [c.status for c in emu.log if c.path == TOKEN_PATH]
    assert statuses == [200, 200, 200, 200]


async def test_refused_credentials_are_backend_auth_failed(make, emu):
    conn = make(password="wrong")
    with pytest.raises(BackendAuthFailed) as info:
        await conn.query(await conn.describe("Accounts"), ORDER, 0, 1)
    err = info.value
    assert (err.status, err.error) == (502, "backend_auth_failed")
    assert err.source.name == "crm" and err.source.status == 401
    assert "wrong" not in err.msg


async def test_aclose_logs_out(make, emu):
    conn = make()
    await conn.check()
    await conn.aclose()
    assert emu.calls("POST", "/rest/v10/oauth2/logout") == 1


async def test_refused_refresh_falls_back_to_a_fresh_login(make, emu):
    mine, other = make(), make()
    await mine.query(await mine.describe("Accounts"), ORDER, 0, 1)
    # same user and platform: evicts our session
    await other.query(await other.describe("Accounts"), ORDER, 0, 1)
    emu.expire_tokens()
    page = await mine.query(await mine.describe("Accounts"), ORDER, 0, 3)
    assert len(page.records) == 3
    tail = [(c.body["grant_type"], c.status) for c in emu.log if c.path == TOKEN_PATH][-2:]
    assert tail == [("refresh_token", 400), ("password", 200)]
