"""Upstream against a small real server: 401 renewal, what is retried, metrics and logs."""

import asyncio

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from gateway.errors import BackendFailure, GatewayError, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.context import CALL_STATS, CallStats, UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.tokens import Token, TokenCache

FAST = RetryPolicy(base=0.001, cap=0.01)


def classify(op, resp):
    info = SourceInfo("t", resp.status, None)
    return BackendFailure(f"HTTP {resp.status}", sent=True, source=info)


class Logins:
    def __init__(self):
        self.n = 0

    async def login(self):
        self.n += 1
        await asyncio.sleep(0.01)
        return Token(f"tok-{self.n}", 1e12, 3600, None)

    async def refresh(self, token):
        raise AssertionError("no refresh token was issued")


@pytest.fixture
async def server(aiohttp_server):
    state = {"fail": [], "seen": [], "valid": "tok-1"}

    async def handler(request):
        state["seen"].append((request.method, request.headers.get("X-Token")))
        if request.headers.get("X-Token", state["valid"]) != state["valid"]:
            return web.json_response({"error": "expired"}, status=401)
        if state["fail"]:
            status = state["fail"].pop(0)
            return web.Response(status=status, text="nope")
        return web.json_response({"ok": True, "q": request.query_string})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    srv = await aiohttp_server(app)
    return srv, state


@pytest.fixture
async def upstream():
    import aiohttp

    async with aiohttp.ClientSession() as session:
        ctx = UpstreamContext("t", None, 5, 2)
        up = Upstream(session, ctx, classify, policy=FAST)
        logins = Logins()
        up.use_auth(TokenCache(logins, ctx), lambda t: {"X-Token": t})
        up.logins = logins
        yield up


async def test_401_renews_once_for_concurrent_callers_and_resends(server, upstream):
    srv, state = server
    await upstream.request("get", "GET", str(srv.make_url("/a")), safe=True)
    state["valid"] = "tok-2"  # the backend forgets tok-1
    answers = await asyncio.gather(*(
        upstream.request("put", "PUT", str(srv.make_url("/a")), safe=False, json={})
        for _ in range(10)))
    assert all(a.status == 200 for a in answers)
    assert upstream.logins.n == 2


async def test_reads_retry_5xx_but_writes_do_not(server, upstream):
    srv, state = server
    state["fail"] = [503, 500]
    assert (await upstream.request("q", "POST", str(srv.make_url("/f")), safe=True)).json()["ok"]
    state["fail"] = [500]
    state["seen"].clear()
    with pytest.raises(GatewayError):
        await upstream.request("w", "POST", str(srv.make_url("/w")), safe=False, json={})
    assert len(state["seen"]) == 1


async def test_every_attempt_is_counted_logged_and_added_to_the_request_stats(server, upstream):
    srv, state = server
    state["fail"] = [502]
    stats = CallStats()
    token = CALL_STATS.set(stats)
    try:
        with capture_logs() as logs:
            await upstream.request("query", "GET", str(srv.make_url("/x?secret=1")), safe=True)
    finally:
        CALL_STATS.reset(token)
    calls = [e for e in logs if e["event"] == "backend_call" and e["op"] == "query"]
    # The failed attempt is logged as a warning; the successful one only at debug level, which
    # a logging configuration set up by another test in this process may filter out.
    assert [e["status"] for e in calls if e["log_level"] == "warning"] == [502]
    assert all(e["path"] == "/x" for e in calls)  # no query string in logs
    assert stats.calls >= 2
    reg = upstream.ctx.metrics.registry
    for status in ("502", "200"):
        assert reg.get_sample_value("gateway_backend_requests_total",
                                    {"source": "t", "operation": "query", "status": status}) == 1


async def test_unreachable_backend_is_retried_even_for_writes_then_fails_unsent(upstream):
    with pytest.raises(BackendFailure) as info:
        await upstream.request("w", "POST", "http://127.0.0.1:9/x", safe=False, auth=False)
    assert info.value.sent is False
    reg = upstream.ctx.metrics.registry
    assert reg.get_sample_value("gateway_backend_requests_total",
                                {"source": "t", "operation": "w", "status": "unreachable"}) == 3


@pytest.mark.parametrize(("url", "path"), [
    ("http://h:1/rest/v10/Accounts?filter=secret", "/rest/v10/Accounts"),
    ("https://h/a", "/a"), ("http://h", "/"), ("/x/y?z=1", "/x/y"),
])
def test_logged_path_never_carries_the_query(url: str, path: str) -> None:
    from gateway.upstream.calls import _path

    assert _path(url) == path
