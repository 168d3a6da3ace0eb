"""/healthz, /readyz, /metrics, /openapi.json and /docs: no key, the promised shapes."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from gateway.http.keys import SOURCES
from gateway.http.routes import ROUTES
from tests.integration.http.conftest import auth
from tests.integration.http.memory import STORES


async def test_healthz(client: Any) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200 and await resp.json() == {"status": "ok"}


async def test_readyz_is_the_process_alone_never_its_backends(client: Any) -> None:
    """Spec §14: a backend that is down shows in /v1/sources and metrics, never in /readyz
    (replicas share backends; failing readiness for one would take every replica out)."""
    resp = await client.get("/readyz")
    assert resp.status == 200 and await resp.json() == {"status": "ready"}
    STORES["mem"].down = True
    resp = await client.get("/readyz")
    assert resp.status == 200 and await resp.json() == {"status": "ready"}
    assert STORES["mem"].checks == 0  # probes never reach a backend
    listed = await client.get("/v1/sources?orgId=acme", headers=auth())
    health = {s["name"]: (s["health"], s["reason"]) for s in (await listed.json())["data"]}
    assert health == {"mem": ("down", "backend_unavailable"), "other": ("ok", None)}


async def test_readyz_is_503_once_the_process_stops_serving(client: Any) -> None:
    await client.app[SOURCES].aclose()  # what the shutdown does before the app goes away
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert await resp.json() == {"status": "not_ready", "reason": "shutting down"}


async def test_metrics_has_the_four_families_after_traffic(client: Any, metrics: Any) -> None:
    await client.get("/v1/records/mem/Accounts/1?orgId=acme", headers=auth())
    await client.get("/v1/records/mem/Accounts/7777?orgId=acme", headers=auth())
    # The backend families are fed by the upstream layer; a connector call records them.
    metrics.backend_call("mem", "get", 200, 0.01)
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("gateway_requests", "gateway_request_duration_seconds",
                 "gateway_backend_requests", "gateway_backend_request_duration_seconds"):
        assert name in families, name
    labels = [s.labels for s in families["gateway_requests"].samples
              if s.name == "gateway_requests_total"]
    assert {"route": "/v1/records/{source}/{entity}/{id}", "method": "GET",
            "status": "404"} in labels
    assert all("7777" not in lbl["route"] for lbl in labels)  # patterns, never raw paths


async def test_openapi_is_31_and_covers_every_route(client: Any) -> None:
    resp = await client.get("/openapi.json")
    doc = await resp.json()
    assert resp.status == 200 and doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {
        (r.method, r.resource.canonical)
        for r in client.app.router.routes() if r.method != "HEAD" and r.resource is not None
    }
    assert served == documented
    assert served == {(r.method, r.path) for r in ROUTES}
    query = doc["paths"]["/v1/records/{source}/{entity}/query"]["post"]
    assert query["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QueryBody"
    }
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', await resp.text()))
    assert refs <= set(doc["components"]["schemas"])  # every reference resolves
    params = {p["name"] for p in query["parameters"]}
    assert {"source", "entity", "orgId", "locale"} <= params


async def test_docs_page_and_assets_reference_nothing_outside(client: Any) -> None:
    resp = await client.get("/docs")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
    html = await resp.text()
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert sorted(assets) == ["docs/docs.css", "docs/docs.js"]
    texts = [html]
    for asset in assets:
        r = await client.get("/" + asset)
        assert r.status == 200
        texts.append(await r.text())
    for text in texts:
        assert "http://" not in text and "https://" not in text
        assert not re.search(r"""["'(=]\s*//[\w.-]""", text)  # nor protocol-relative ones
        assert "@import" not in text and "url(" not in text  # no fonts or images fetched
    assert 'fetch("openapi.json")' in texts[2]
    assert (await client.get("/docs/../../etc/passwd")).status == 404
    assert (await client.get("/docs/nope.js")).status == 404
