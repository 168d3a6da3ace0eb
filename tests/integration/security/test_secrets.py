"""No API key, backend password, client secret or token in logs, error bodies or /metrics,
after the failures most likely to leak one."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from aiohttp import web

from gateway.observability.redact import Redactor
from tests.contract.backends import HARNESSES, Harness
from tests.integration.http.memory import STORES
from tests.integration.security.conftest import (
    BACKEND_PASSWORD,
    KEY,
    ORG,
    Gateway,
    auth,
    log_lines,
)

_TOKENISH = re.compile(r"token|authorization", re.IGNORECASE)


class Wire:
    """Every credential-bearing header value the gateway sent a backend."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def middleware(self) -> Any:
        @web.middleware
        async def capture(request: web.Request, handler: Any) -> web.StreamResponse:
            for name, value in request.headers.items():
                if _TOKENISH.search(name):
                    token = value.split(" ", 1)[-1].strip()
                    if len(token) >= 8:
                        self.values.add(token)
            return await handler(request)  # type: ignore[no-any-return]

        return capture


@pytest.fixture(params=sorted(HARNESSES))
async def wired(request: pytest.FixtureRequest, aiohttp_server: Any) -> tuple[Harness, Wire]:
    wire = Wire()

    async def factory(app: web.Application, **kw: Any) -> Any:
        app.middlewares.append(wire.middleware())
        return await aiohttp_server(app, **kw)

    h = HARNESSES[request.param]()
    await h.start(factory)
    return h, wire


def assert_clean(secrets: set[str], *texts: bytes) -> None:
    assert secrets, "nothing to look for"
    for text in texts:
        for secret in secrets:
            assert secret.encode() not in text, f"{secret[:4]}… leaked"


async def test_memory_failures_leak_nothing(
    gateway: Gateway, logged_redactor: Redactor, log_stream: io.BytesIO
) -> None:
    gw = await gateway(
        redactor=logged_redactor,
        consumers=[{"name": "app", "apiKey": KEY, "orgs": [ORG],
                    "rateLimit": {"requestsPerSecond": 0.01, "burst": 4}}],
    )
    bodies: list[bytes] = []
    idem = auth(**{"Idempotency-Key": "k-" + KEY})  # a key that quotes the API key
    calls = [
        ("GET", f"/v1/records/mem/boom/1?orgId={ORG}", auth()),  # bug with the password
        ("GET", f"/v1/records/mem/flaky/1?orgId={ORG}", auth()),  # 503 from the backend
        ("POST", f"/v1/records/mem/Contacts?orgId={ORG}", idem),
        ("POST", f"/v1/records/mem/Contacts?orgId={ORG}", idem),  # replayed
        ("GET", f"/v1/records/mem/Accounts/1?orgId={ORG}", auth()),  # rate limited
        ("GET", f"/v1/sources?orgId={ORG}", auth(BACKEND_PASSWORD)),  # a password as a key
    ]
    statuses = []
    for method, url, headers in calls:
        resp = await gw.request(method, url, json={"name": "x"}, headers=headers)
        statuses.append(resp.status)
        bodies.append(await resp.read())
        bodies.append(repr(dict(resp.headers)).encode())
    assert statuses == [500, 503, 201, 201, 429, 401]
    metrics = await (await gw.get("/metrics")).read()
    logs = log_stream.getvalue()
    assert_clean({KEY, BACKEND_PASSWORD}, logs, metrics, *bodies)
    lines = log_lines(log_stream)
    assert any(r.get("event") == "unhandled_exception" for r in lines)  # logged, scrubbed
    assert any(r.get("status") == 429 for r in lines if r.get("event") == "request")


async def test_emulator_failures_leak_nothing(
    wired: tuple[Harness, Wire], gateway: Gateway, logged_redactor: Redactor,
    log_stream: io.BytesIO,
) -> None:
    h, wire = wired
    url = f"/v1/records/{h.type}/{h.roles.entity}?orgId={ORG}"
    good = await gateway(sources={h.type: h.source(timeout=0.3, retries=0)},
                         redactor=logged_redactor)
    bodies: list[bytes] = []

    async def call(gw: Any, method: str, status: int | None = None, **kw: Any) -> None:
        resp = await gw.request(method, url, **{"headers": auth(), **kw})
        bodies.append(await resp.read())
        if status is not None:
            assert resp.status == status, bodies[-1]

    await call(good, "GET", 200, params={"pageSize": "1"})  # logs in: a token now exists
    h.emulator.faults.fail(500, times=1)
    await call(good, "GET", 502)
    h.emulator.faults.latency = 0.6
    await call(good, "GET", 504)
    h.emulator.faults.clear()
    h.emulator.faults.expire_tokens()
    await call(good, "GET", 200)  # renewed silently: a second token on the wire
    data = {**h.roles.writable, h.roles.text: "Secretive Inc"}
    for _ in range(2):
        await call(good, "POST", 201, json=data,
                   headers=auth(**{"Idempotency-Key": "secret-safe"}))
    metrics_good = await (await good.get("/metrics")).read()

    bad_source = h.source(timeout=2, retries=0)
    bad_source["auth"] = {**bad_source["auth"], **h.refused_auth}
    bad = await gateway(sources={h.type: bad_source}, redactor=logged_redactor)
    resp = await bad.get(url, headers=auth())
    bodies.append(await resp.read())
    assert resp.status == 502 and b"backend_auth_failed" in bodies[-1]
    metrics_bad = await (await bad.get("/metrics")).read()

    secrets = {KEY, *wire.values, *(str(v) for v in h.refused_auth.values())}
    assert len(wire.values) >= 1
    assert_clean(secrets, log_stream.getvalue(), metrics_good, metrics_bad, *bodies)
    assert STORES  # the memory store fixture stays untouched by emulator tests
