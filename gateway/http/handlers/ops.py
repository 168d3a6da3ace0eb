"""Operations endpoints: /healthz, /readyz, /metrics, /openapi.json, /docs (all without a key)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.errors import NotFound
from gateway.http.envelope import JSON_TYPE, dumps
from gateway.http.keys import METRICS, OPENAPI, SOURCES

__all__ = ["DOCS_ASSETS", "docs", "docs_asset", "healthz", "metrics", "openapi", "readyz"]

# The only files /docs/{asset} serves: no path from the caller ever reaches the file system.
DOCS_ASSETS = {
    "docs.js": "text/javascript; charset=utf-8",
    "docs.css": "text/css; charset=utf-8",
}


@cache
def _static(name: str) -> bytes:
    return (resources.files("gateway.http") / "static" / name).read_bytes()


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, headers={"Content-Type": JSON_TYPE})


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The process's own readiness (spec §14): config loaded, sources opened, not shutting down.

    Backends are not asked: replicas share them, so a backend that is down or a circuit that
    is open would take every replica out of its load balancer at once. That shows per org in
    ``/v1/sources`` and in ``/metrics`` instead."""
    sources = request.app.get(SOURCES)
    if sources is None:
        return _json({"status": "not_ready", "reason": "starting"}, 503)
    if sources.closed:
        return _json({"status": "not_ready", "reason": "shutting down"}, 503)
    return _json({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], headers={"Content-Type": JSON_TYPE})


async def docs(request: web.Request) -> web.Response:
    return web.Response(
        body=_static("docs.html"), headers={"Content-Type": "text/html; charset=utf-8"}
    )


async def docs_asset(request: web.Request) -> web.Response:
    name = request.match_info["asset"]
    if name not in DOCS_ASSETS:
        raise NotFound("no_route", {"path": request.path[:200]})
    return web.Response(body=_static(name), headers={"Content-Type": DOCS_ASSETS[name]})
