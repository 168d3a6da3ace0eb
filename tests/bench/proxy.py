"""The bare pass-through proxy the gateway is measured against: forward, answer, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

__all__ = ["make_proxy_app"]

UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones aiohttp recomputes for the new message.
HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
    )
)


async def _session_ctx(app: web.Application) -> AsyncIterator[None]:
    # One pooled session for every request, as any sane proxy (and the gateway) does.
    app[SESSION] = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100),
        auto_decompress=False,  # bytes pass through untouched, Content-Encoding and all
    )
    yield
    await app[SESSION].close()


async def _forward(request: web.Request) -> web.Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
    async with request.app[SESSION].request(
        request.method,
        request.app[UPSTREAM] + request.path_qs,
        headers=headers,
        data=await request.read() if request.can_read_body else None,
        allow_redirects=False,
    ) as upstream:
        body = await upstream.read()
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP}
        return web.Response(body=body, status=upstream.status, headers=out)


def make_proxy_app(upstream: str) -> web.Application:
    """An app forwarding every method and path to ``upstream`` (scheme://host:port, no path)."""
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app.cleanup_ctx.append(_session_ctx)
    app.router.add_route("*", "/{tail:.*}", _forward)
    return app
