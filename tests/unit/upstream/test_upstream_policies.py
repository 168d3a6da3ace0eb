"""Upstream with its policies wired: breaker before any attempt, bulkhead, deadline clipping."""

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from gateway.errors import (
    BackendFailure,
    BackendTimeout,
    BackendUnavailable,
    RateLimited,
    SourceInfo,
)
from gateway.upstream import deadline
from gateway.upstream.breaker import Breaker
from gateway.upstream.bulkhead import Bulkhead
from gateway.upstream.client import Upstream
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy, parse_retry_after

FAST = RetryPolicy(base=0.001, cap=0.01)


def classify(op, resp):
    info = SourceInfo("t", resp.status, None)
    wait = parse_retry_after(resp.headers.get("Retry-After"))
    if resp.status == 429:
        return RateLimited("slow down", source=info, retry_after=wait)
    if resp.status == 503:
        return BackendUnavailable("down", source=info, sent=True, retry_after=wait)
    return BackendFailure(f"HTTP {resp.status}", sent=True, source=info)


@pytest.fixture
async def server(aiohttp_server):
    state = {"answers": [], "seen": 0, "sleep": 0.0}

    async def handler(request):
        state["seen"] += 1
        if state["sleep"]:
            await asyncio.sleep(state["sleep"])
        if state["answers"]:
            status, headers = state["answers"].pop(0)
            return web.json_response({"error": status}, status=status, headers=headers)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    srv = await aiohttp_server(app)
    return srv, state


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


def upstream(session, *, retries=0, breaker=None, bulkhead=None, timeout=5.0):
    ctx = UpstreamContext("t", None, timeout, retries, breaker=breaker, bulkhead=bulkhead)
    return Upstream(session, ctx, classify, policy=FAST)


async def test_an_open_circuit_answers_503_without_calling_the_backend(server, session):
    srv, state = server
    up = upstream(session, breaker=Breaker("t", failures=2, open_seconds=30))
    state["answers"] = [(500, {})] * 2
    for _ in range(2):
        with pytest.raises(BackendFailure):
            await up.request("get", "GET", str(srv.make_url("/a")), safe=True)
    seen = state["seen"]
    with pytest.raises(BackendUnavailable) as info:
        await up.request("get", "GET", str(srv.make_url("/a")), safe=True)
    assert state["seen"] == seen and 29 < info.value.retry_after <= 30
    with pytest.raises(BackendUnavailable):  # streams (files) too
        async with up.stream("file_get", "GET", str(srv.make_url("/f")), safe=True):
            pass
    assert state["seen"] == seen


async def test_4xx_answers_do_not_count_as_failures(server, session):
    srv, state = server
    breaker = Breaker("t", failures=2, open_seconds=30)
    up = upstream(session, breaker=breaker)
    state["answers"] = [(500, {}), (404, {}), (500, {})]
    for _ in range(3):
        with pytest.raises(BackendFailure):
            await up.request("get", "GET", str(srv.make_url("/a")), safe=True)
    assert breaker.state == "closed"


async def test_each_call_timeout_is_clipped_to_the_deadline_and_is_not_the_backends_fault(
    server, session
):
    srv, state = server
    breaker = Breaker("t", failures=1, open_seconds=30)
    up = upstream(session, retries=3, breaker=breaker, timeout=5)
    state["sleep"] = 2.0
    token = deadline.start(0.2)
    try:
        started = time.monotonic()
        with pytest.raises(BackendTimeout):
            await up.request("get", "GET", str(srv.make_url("/a")), safe=True)
        assert time.monotonic() - started < 1.0
    finally:
        deadline.end(token)
    assert breaker.state == "closed"  # the consumer's deadline, not the backend, ran out


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (503, BackendUnavailable)])
async def test_a_retry_after_longer_than_the_deadline_is_answered_at_once(
    server, session, status, error
):
    srv, state = server
    up = upstream(session, retries=3)
    state["answers"] = [(status, {"Retry-After": "30"})]
    token = deadline.start(2.0)
    try:
        started = time.monotonic()
        with pytest.raises(error) as info:
            await up.request("get", "GET", str(srv.make_url("/a")), safe=True)
        assert time.monotonic() - started < 0.5 and info.value.retry_after == 30
    finally:
        deadline.end(token)
    assert state["seen"] == 1


async def test_a_retry_after_that_fits_is_waited_then_the_call_succeeds(server, session):
    srv, state = server
    up = upstream(session, retries=1)
    state["answers"] = [(429, {"Retry-After": "0.2"})]
    token = deadline.start(2.0)
    try:
        started = time.monotonic()
        resp = await up.request("get", "GET", str(srv.make_url("/a")), safe=True)
        assert resp.json() == {"ok": True} and time.monotonic() - started >= 0.2
    finally:
        deadline.end(token)


async def test_an_open_stream_holds_a_transfer_slot_not_a_call_slot(server, session):
    """Once the head is in, the body is paced by its reader: other calls get the call slot,
    another transfer waits for the transfer slot (503 when none frees up in time)."""
    srv, _ = server
    up = upstream(session, bulkhead=Bulkhead("t", max_in_flight=1, queue_timeout=0.05))
    async with up.stream("file_get", "GET", str(srv.make_url("/f")), safe=True) as resp:
        assert up.ctx.bulkhead.in_flight == 0 and up.ctx.bulkhead.transfers.in_flight == 1
        assert (await up.request("get", "GET", str(srv.make_url("/a")), safe=True)).ok
        with pytest.raises(BackendUnavailable) as info:
            async with up.stream("file_get", "GET", str(srv.make_url("/f")), safe=True):
                pass
        assert info.value.retry_after == 1 and "file transfers" in str(info.value)
        await up.read(resp)
    assert up.ctx.bulkhead.in_flight == 0 and up.ctx.bulkhead.transfers.in_flight == 0


async def test_a_failed_stream_frees_its_slot(server, session):
    srv, state = server
    up = upstream(session, bulkhead=Bulkhead("t", max_in_flight=1, queue_timeout=0.05))
    state["answers"] = [(500, {})]
    with pytest.raises(BackendFailure):
        async with up.stream("file_get", "GET", str(srv.make_url("/f")), safe=True):
            pass
    assert up.ctx.bulkhead.in_flight == 0 and up.ctx.bulkhead.transfers.in_flight == 0


async def test_guard_puts_hand_rolled_calls_under_the_same_policies(server, session):
    srv, _ = server
    breaker = Breaker("t", failures=1, open_seconds=30)
    up = upstream(session, breaker=breaker, bulkhead=Bulkhead("t", max_in_flight=1,
                                                              queue_timeout=0.01))
    async with up.guard() as call:
        assert up.ctx.bulkhead.in_flight == 1
        async with session.get(str(srv.make_url("/f"))) as raw:
            call.failed = raw.status >= 500
    assert up.ctx.bulkhead.in_flight == 0 and breaker.state == "closed"
    async with up.guard() as call:
        call.failed = True
    with pytest.raises(BackendUnavailable):
        async with up.guard():
            pass
