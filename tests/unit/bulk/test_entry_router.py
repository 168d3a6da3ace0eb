"""A bulk entry names the route aiohttp's router would have picked for the same call alone."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_urldispatcher import MatchInfoError
from yarl import URL

from gateway.bulk.entries import Router
from gateway.http.routes import ROUTES

PATHS = [
    "/v1/records/s/e", "/v1/records/s/e/query", "/v1/records/s/e/7", "/v1/records/s/e/que%72y",
    "/v1/records/s/e/7/files/logo", "/v1/records/s/e/7/files", "/v1/records/s/e/", "/v1/records//e",
    "/v1/records/s/e/a%20b", "/v1/records/s/e/%7Bx%7D", "/v1/records/s", "/v1/bulk", "/v1/sources",
    "/v1/sources/s/entities", "/v1/sources/s", "/v1/nothing", "/v1", "/v1/records/s/e/7/extra/x",
]


def _app() -> web.Application:
    app = web.Application()
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    return app


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("raw", PATHS)
async def test_same_route_parameters_and_allowed_methods_as_aiohttp(raw: str, method: str) -> None:
    app = _app()
    request = make_mocked_request(method, raw, app=app)
    found = await app.router.resolve(request)
    name, params, allowed = Router.of(app).match(method, URL(raw, encoded=True).path)
    if isinstance(found, MatchInfoError):
        assert name == "" and params == {}
        http = found.http_exception
        expected = (http.allowed_methods if isinstance(http, web.HTTPMethodNotAllowed)
                    else frozenset())
        assert allowed == expected
    else:
        assert (name, params, allowed) == (found.route.name, dict(found), frozenset())
