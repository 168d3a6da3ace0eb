"""A read racing a write never keeps what it read before the write.

A relay between the gateway and the SugarCRM emulator holds the emulator's answer to one read
until the test lets it go: the read has its (old) data, the write then finishes through the
gateway, and only then does the read's answer reach the gateway. It is answered, but not kept:
the next read calls the backend and sees the write.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from gateway.config.model import GatewayConfig
from gateway.http.app import create_app
from tests.integration.cache.conftest import CONSUMERS, ORG, auth, cache_config, first_id

ACCOUNTS = "/v1/records/sugarcrm/Accounts"


class HoldingRelay:
    """Forwards everything to the emulator; with ``hold`` set, the answer to a GET of that path
    is read from the emulator at once but handed back only when ``release`` is set."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.hold: str | None = None
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._forward)

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length", "transfer-encoding")}
        async with aiohttp.ClientSession() as session, session.request(
                request.method, self.upstream + request.path_qs, headers=headers,
                data=body or None) as upstream:
            answer = await upstream.read()
            status, kind = upstream.status, upstream.headers.get("Content-Type")
        if request.method == "GET" and request.path == self.hold:
            self.hold = None
            self.read_done.set()
            await self.release.wait()
        return web.Response(body=answer, status=status, headers={"Content-Type": kind or ""})


async def test_a_read_that_raced_a_write_is_not_kept(aiohttp_server: Any, aiohttp_client: Any,
                                                     sugar: Any) -> None:
    origin = str(sugar.source()["baseUrl"]).removesuffix("/rest/v10")
    relay = HoldingRelay(origin)
    server = await aiohttp_server(relay.app)
    source = {**sugar.source(), "baseUrl": str(server.make_url("/rest/v10")),
              "cache": cache_config()}
    config = GatewayConfig.model_validate({"consumers": CONSUMERS,
                                           "sources": {"sugarcrm": source}})
    client = await aiohttp_client(create_app(config, configure_logs=False))
    rid = first_id(sugar)
    path = f"{ACCOUNTS}/{rid}?orgId={ORG}"
    warm = await client.get(f"{ACCOUNTS}/{first_id(sugar, 'Contacts')}?orgId={ORG}",
                            headers=auth())  # login and metadata, so the race is only these
    assert warm.status == 404

    relay.hold = f"/rest/v10/Accounts/{rid}"
    racing = asyncio.ensure_future(client.get(path, headers=auth()))
    await relay.read_done.wait()  # the read has the old name, not yet its answer
    patched = await client.patch(path, json={"name": "Written Meanwhile"}, headers=auth())
    assert patched.status == 200
    relay.release.set()
    old = await racing
    assert (await old.json())["data"]["name"] != "Written Meanwhile"  # it raced: old data

    fresh = await client.get(path, headers=auth())
    assert (await fresh.json())["data"]["name"] == "Written Meanwhile"
