"""Server-Timing (spec §13) on every answer, errors included, with the backend calls the access
line counts; and explain's checks on the in-memory backend (no sort, no counts: a scan)."""

from __future__ import annotations

import re
from typing import Any

from structlog.testing import capture_logs

from tests.integration.http.conftest import HASHED_KEY, NARROW_KEY, auth

TIMING = re.compile(r'gateway;dur=(\d+\.\d\d)(?:, backend;dur=(\d+\.\d\d);desc="(\d+) calls")?')
QUERY = "/v1/records/mem/Accounts/query?orgId=acme"


def timing(headers: Any) -> tuple[float, float | None, int]:
    """(gateway ms, backend ms or None, backend calls) from the answer's Server-Timing."""
    found = TIMING.fullmatch(headers["Server-Timing"])
    assert found is not None, headers["Server-Timing"]
    gateway, backend, calls = found.groups()
    return float(gateway), None if backend is None else float(backend), int(calls or 0)


async def test_every_answer_says_its_time_and_backend_calls(client: Any) -> None:
    asked = [
        ("GET", "/v1/records/mem/Accounts/1?orgId=acme", auth(), None, 200),
        ("POST", QUERY, auth(), {"pageSize": 2}, 200),
        ("POST", QUERY, auth(), {"filter": [[{"field": "name", "operator": "~"}]]}, 400),
        ("GET", "/v1/records/mem/Accounts/1?orgId=acme", {}, None, 401),
        ("GET", "/v1/records/mem/Accounts/999?orgId=acme", auth(), None, 404),
        ("GET", "/v1/nowhere?orgId=acme", auth(), None, 404),
        ("GET", "/v1/records/mem/boom/1?orgId=acme", auth(), None, 500),
        ("GET", "/v1/records/mem/flaky/1?orgId=acme", auth(HASHED_KEY), None, 503),
        ("GET", "/healthz", {}, None, 200),
    ]
    for method, url, headers, body, status in asked:
        with capture_logs() as logs:
            resp = await client.request(method, url, headers=headers, json=body)
            await resp.read()
        assert resp.status == status, (url, await resp.text())
        (line,) = [e for e in logs if e["event"] == "request"]
        gateway_ms, backend_ms, calls = timing(resp.headers)
        assert calls == line["backend_calls"], (url, resp.headers["Server-Timing"], line)
        assert (backend_ms is None) == (calls == 0)
        assert gateway_ms >= line["duration_ms"] - 0.01  # measured when the head went out
    get_one = await client.get("/v1/records/mem/Accounts/1?orgId=acme", headers=auth())
    assert timing(get_one.headers)[2] == 2  # the memory backend: describe, then the record


async def test_explain_on_a_backend_that_neither_sorts_nor_counts(client: Any) -> None:
    query = {"filter": [[{"field": "industry", "operator": "==", "value": "Energy"}]],
             "orderBy": [{"field": "name", "order": "DESC"}], "pageSize": 1, "pageNo": 2}
    resp = await client.post(QUERY + "&explain=true", json=query, headers=auth())
    data = (await resp.json())["data"]
    assert resp.status == 200 and data["strategy"] == "scan"
    assert data["pushed"] == {"filter": [], "orderBy": [], "fields": None}
    assert data["residual"] == [[{"field": "industry", "operator": "==", "value": "Energy"}]]
    assert data["sortInGateway"] and data["sortReason"] == "backend cannot sort"
    # No counts: fetches one after another until the data ends, at most maxScanRecords + 1.
    assert data["estimatedBackendCalls"] == -(-100_001 // 50) and not data["estimateExact"]
    assert timing(resp.headers)[2] == 1  # the entity's description, no record read
    ran = await client.post(QUERY, json=query, headers=auth())
    answer = await ran.json()
    assert [r["name"] for r in answer["data"]] == ["Acme"]  # Globex, then Acme
    assert timing(ran.headers)[2] == 2  # describe + one fetch, well under the bound


async def test_explain_is_refused_where_the_query_is(client: Any) -> None:
    other = await client.post(QUERY + "&explain=true", json={}, headers=auth(NARROW_KEY))
    assert other.status == 403  # this key may not use the source: no plan either
    body = await other.json()
    assert body["error"] == "forbidden" and "Server-Timing" in other.headers
    spanish = await client.post(QUERY + "&explain=sí&locale=es-ES", json={}, headers=auth())
    assert spanish.status == 400
    assert (await spanish.json())["details"][0]["msg"] == "explain debe ser true o false"
