"""Backend faults: what is retried, what is not, and what the user is told."""

import time

import pytest

from gateway.connector import PushedQuery
from gateway.errors import (
    BackendFailure,
    BackendTimeout,
    BackendUnavailable,
    NotFound,
    RateLimited,
)
from gateway.query.model import OrderKey

ORDER = PushedQuery(order_by=(OrderKey("name"), OrderKey("id")))
FILTER = "/rest/v10/Accounts/filter"


async def _warm(conn):
    # log in and fetch metadata before the fault
    await conn.query(await conn.describe("Accounts"), ORDER, 0, 1)


async def test_5xx_on_a_read_is_retried(crm, emu):
    await _warm(crm)
    before = emu.calls("POST", FILTER)
    emu.faults.fail(500, times=2, path=FILTER)
    page = await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)
    assert len(page.records) == 5
    assert emu.calls("POST", FILTER) - before == 3


async def test_5xx_after_retries_is_backend_error(crm, emu):
    await _warm(crm)
    before = emu.calls("POST", FILTER)
    emu.faults.fail(500, times=10, path=FILTER)
    with pytest.raises(BackendFailure) as info:
        await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)
    assert (info.value.status, info.value.error) == (502, "backend_error")
    assert info.value.source.status == 500
    assert emu.calls("POST", FILTER) - before == 3  # 1 + retries (2)


async def test_501_is_not_retried(crm, emu):
    await _warm(crm)
    before = emu.calls("POST", FILTER)
    emu.faults.fail(501, times=5, path=FILTER)
    with pytest.raises(BackendFailure):
        await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)
    assert emu.calls("POST", FILTER) - before == 1


async def test_429_retry_after_is_waited_for(crm, emu):
    await _warm(crm)
    emu.faults.rate_limit(times=1, retry_after=1, path=FILTER)
    started = time.monotonic()
    page = await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)
    assert len(page.records) == 5
    assert time.monotonic() - started >= 0.95


async def test_429_beyond_retries_is_rate_limited_with_retry_after(make, emu):
    conn = make(retries=0)
    await _warm(conn)
    emu.faults.rate_limit(times=1, retry_after=7, path=FILTER)
    with pytest.raises(RateLimited) as info:
        await conn.query(await conn.describe("Accounts"), ORDER, 0, 5)
    assert info.value.status == 429 and info.value.retry_after == 7


async def test_maintenance_is_backend_unavailable(crm, emu):
    await _warm(crm)
    emu.faults.maintenance(True)
    with pytest.raises(BackendUnavailable) as info:
        await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)
    assert info.value.status == 503 and info.value.retry_after
    assert info.value.source.error == "maintenance"


async def test_malformed_json_is_retried_then_backend_error(crm, emu):
    await _warm(crm)
    emu.faults.malformed(times=1, path=FILTER)
    assert len((await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)).records) == 5
    emu.faults.malformed(times=10, path=FILTER)
    with pytest.raises(BackendFailure) as info:
        await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)
    assert info.value.error == "backend_error"


async def test_slow_backend_is_backend_timeout(make, emu):
    conn = make(timeout=0.3, retries=1)
    await _warm(conn)
    emu.faults.latency = 0.6
    with pytest.raises(BackendTimeout) as info:
        await conn.query(await conn.describe("Accounts"), ORDER, 0, 5)
    assert (info.value.status, info.value.error) == (504, "backend_timeout")


async def test_dropped_connection_on_a_read_is_retried(crm, emu):
    await _warm(crm)
    before = emu.calls("POST", FILTER)
    emu.faults.drop(times=1, path=FILTER)
    assert len((await crm.query(await crm.describe("Accounts"), ORDER, 0, 5)).records) == 5
    assert emu.calls("POST", FILTER) - before == 2


async def _some_id(conn):
    return (await conn.query(await conn.describe("Accounts"), ORDER, 0, 1)).records[0]["id"]


async def test_dropped_answer_to_a_create_is_not_repeated(crm, emu):
    await _warm(crm)
    total = await crm.count(await crm.describe("Accounts"), ())
    emu.faults.drop(times=1, after_processing=True, method="POST", path="/rest/v10/Accounts")
    with pytest.raises(BackendFailure) as info:
        await crm.create("Accounts", {"name": "Dropped Answer Ltd"})
    assert info.value.sent is None and info.value.status == 502
    assert emu.calls("POST", "/rest/v10/Accounts") == 1
    assert await crm.count(await crm.describe("Accounts"), ()) == total + 1  # it ran once, exactly


async def test_dropped_answer_to_an_update_is_not_repeated(crm, emu):
    rid = await _some_id(crm)
    path = f"/rest/v10/Accounts/{rid}"
    emu.faults.drop(times=1, after_processing=True, method="PUT", path=path)
    with pytest.raises(BackendFailure) as info:
        await crm.update("Accounts", rid, {"name": "Renamed Once"}, None)
    assert info.value.sent is None
    assert emu.calls("PUT", path) == 1
    assert (await crm.get("Accounts", rid, ("name",)))["name"] == "Renamed Once"


async def test_dropped_answer_to_a_delete_is_not_repeated(crm, emu):
    rid = await _some_id(crm)
    path = f"/rest/v10/Accounts/{rid}"
    emu.faults.drop(times=1, after_processing=True, method="DELETE", path=path)
    with pytest.raises(BackendFailure) as info:
        await crm.delete("Accounts", rid)
    assert info.value.sent is None
    assert emu.calls("DELETE", path) == 1
    with pytest.raises(NotFound):
        await crm.get("Accounts", rid, None)


async def test_aiohttp_does_not_resend_writes_by_itself(crm):
    assert crm.upstream.session._retry_connection is False
