"""Upstream.stream against a small real server: bodies flow both ways as they are produced,
a body that started flowing is never sent again, a cut-off download is a BackendFailure."""

import asyncio

import aiohttp
import pytest
from aiohttp import web

from gateway.errors import BackendFailure, SourceInfo
from gateway.upstream.client import Upstream
from gateway.upstream.context import UpstreamContext
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.tokens import Token, TokenCache

FAST = RetryPolicy(base=0.001, cap=0.01)


def classify(op, resp):
    return BackendFailure(f"HTTP {resp.status}", sent=True,
                          source=SourceInfo("t", resp.status, None))


class Logins:
    def __init__(self):
        self.n = 0

    async def login(self):
        self.n += 1
        return Token(f"tok-{self.n}", 1e12, 3600, None)

    async def refresh(self, token):
        raise AssertionError("no refresh token was issued")


@pytest.fixture
async def server(aiohttp_server):
    st = {"seen": 0, "first_chunk": asyncio.Event(), "client_read": asyncio.Event(),
          "status": [], "valid": "tok-1"}

    async def upload(request):
        st["seen"] += 1
        first = await request.content.readany()
        st["first_chunk"].set()
        rest = await request.content.read()
        if request.headers.get("X-Token") != st["valid"]:
            return web.json_response({"error": "expired"}, status=401)
        if st["status"]:
            return web.json_response({}, status=st["status"].pop(0))
        return web.json_response({"size": len(first) + len(rest)})

    async def download(request):
        st["seen"] += 1
        if st["status"]:
            return web.json_response({}, status=st["status"].pop(0))
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"a" * 1000)
        await asyncio.wait_for(st["client_read"].wait(), 5)
        await resp.write(b"b" * 1000)
        return resp

    async def cut(request):
        resp = web.StreamResponse(headers={"Content-Length": "5000"})
        await resp.prepare(request)
        await resp.write(b"x" * 1000)
        await asyncio.sleep(0.05)
        request.transport.close()
        return resp

    app = web.Application()
    app.router.add_put("/up", upload)
    app.router.add_get("/down", download)
    app.router.add_get("/cut", cut)
    return await aiohttp_server(app), st


@pytest.fixture
async def upstream():
    async with aiohttp.ClientSession() as session:
        ctx = UpstreamContext("t", None, 5, 2)
        up = Upstream(session, ctx, classify, policy=FAST)
        up.logins = Logins()
        up.use_auth(TokenCache(up.logins, ctx), lambda t: {"X-Token": t})
        yield up


async def test_upload_chunks_reach_the_backend_before_the_producer_is_done(server, upstream):
    srv, st = server

    async def produce():
        yield b"1" * 70_000
        # Only a sender that streams lets the backend see this first chunk now.
        await asyncio.wait_for(st["first_chunk"].wait(), 5)
        yield b"2" * 30_000

    async with upstream.stream("put", "PUT", str(srv.make_url("/up")), safe=False,
                               body=produce()) as resp:
        answer = await upstream.read(resp)
    assert answer.json() == {"size": 100_000}


async def test_download_chunks_arrive_before_the_backend_finished(server, upstream):
    srv, st = server
    got = []
    async with upstream.stream("get", "GET", str(srv.make_url("/down")), safe=True) as resp:
        async for chunk in upstream.chunks(resp):
            got.append(chunk)
            st["client_read"].set()  # the backend sends the rest only once we had the start
    assert b"".join(got) == b"a" * 1000 + b"b" * 1000


async def test_a_body_that_started_flowing_is_not_resent_even_when_safe(server, upstream):
    srv, st = server
    st["status"] = [503]

    async def produce():
        yield b"x" * 10

    with pytest.raises(BackendFailure) as info:
        async with upstream.stream("put", "PUT", str(srv.make_url("/up")), safe=True,
                                   body=produce()):
            pass
    assert info.value.source.status == 503 and st["seen"] == 1


async def test_a_read_without_a_body_is_retried(server, upstream):
    srv, st = server
    st["status"] = [503]
    st["client_read"].set()
    async with upstream.stream("get", "GET", str(srv.make_url("/down")), safe=True) as resp:
        body = b"".join([c async for c in upstream.chunks(resp)])
    assert len(body) == 2000 and st["seen"] == 2


async def test_a_token_refused_after_the_body_flowed_is_not_replayed(server, upstream):
    srv, st = server

    async def produce():
        yield b"x" * 10

    async with upstream.stream("put", "PUT", str(srv.make_url("/up")), safe=False,
                               body=produce()) as resp:
        await upstream.read(resp)
    st["valid"] = "tok-2"
    with pytest.raises(BackendFailure) as info:
        async with upstream.stream("put", "PUT", str(srv.make_url("/up")), safe=False,
                                   body=produce()):
            pass
    assert info.value.source.error == "token_refused" and st["seen"] == 2
    # The refused token was dropped: the next call logs in again and goes through.
    async with upstream.stream("put", "PUT", str(srv.make_url("/up")), safe=False,
                               body=produce()) as resp:
        assert (await upstream.read(resp)).json() == {"size": 10}
    assert upstream.logins.n == 2


async def test_a_download_cut_short_is_a_backend_failure(server, upstream):
    srv, _ = server
    with pytest.raises(BackendFailure) as info:
        async with upstream.stream("get", "GET", str(srv.make_url("/cut")), safe=True) as resp:
            async for _ in upstream.chunks(resp):
                pass
    assert info.value.source.error in ("truncated_body", "disconnected", "transport_error")
