"""Every error path answers the error envelope with its status, id and details; never a trace."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.http.conftest import APP_KEY, BACKEND_PASSWORD, NARROW_KEY, auth

ENVELOPE_KEYS = {"code", "error", "msg", "details", "requestId"}


async def _err(resp: Any, status: int, error: str) -> dict[str, Any]:
    body = await resp.json()
    assert resp.status == status, body
    assert ENVELOPE_KEYS <= set(body) and body["code"] == status and body["error"] == error
    assert body["requestId"] == resp.headers["X-Request-Id"]
    return body  # type: ignore[no-any-return]


async def test_missing_and_unknown_key_are_401(client: Any) -> None:
    await _err(await client.get("/v1/sources?orgId=acme"), 401, "unauthorized")
    await _err(await client.get("/v1/sources?orgId=acme", headers=auth("wrong-key")),
               401, "unauthorized")
    await _err(await client.get("/v1/sources?orgId=acme",
                                headers={"Authorization": f"Basic {APP_KEY}"}), 401, "unauthorized")


async def test_unknown_path_without_key_is_401_not_404(client: Any) -> None:
    await _err(await client.get("/v1/nothing-here?orgId=acme"), 401, "unauthorized")


async def test_org_is_required_on_v1(client: Any) -> None:
    body = await _err(await client.get("/v1/sources", headers=auth()), 400, "invalid_request")
    assert body["details"] == [{"path": "orgId", "msg": "The orgId query parameter is required"}]


async def test_org_and_source_not_allowed_are_403(client: Any) -> None:
    body = await _err(await client.get("/v1/sources?orgId=initech", headers=auth()),
                      403, "forbidden")
    assert "initech" in body["msg"]
    body = await _err(await client.get("/v1/records/mem/Accounts/1?orgId=acme",
                                       headers=auth(NARROW_KEY)), 403, "forbidden")
    assert "mem" in body["msg"]


async def test_unknown_source_entity_record_route_are_404(client: Any) -> None:
    body = await _err(await client.get("/v1/records/nope/Accounts/1?orgId=acme", headers=auth()),
                      404, "not_found")
    assert body["msg"] == "Unknown source 'nope'"
    body = await _err(await client.get("/v1/records/mem/Nope/1?orgId=acme", headers=auth()),
                      404, "not_found")
    assert body["msg"] == "Unknown entity 'Nope'"
    await _err(await client.get("/v1/records/mem/Accounts/999?orgId=acme", headers=auth()),
               404, "not_found")
    await _err(await client.get("/v1/whatever?orgId=acme", headers=auth()), 404, "not_found")
    await _err(await client.get("/nothing"), 404, "not_found")


async def test_wrong_method_is_405_with_allow(client: Any) -> None:
    resp = await client.delete("/v1/sources?orgId=acme", headers=auth())
    await _err(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


async def test_body_over_limit_is_413_by_length_and_while_reading(client: Any) -> None:
    big = b'{"name": "' + b"x" * 5000 + b'"}'
    url = "/v1/records/mem/Accounts?orgId=acme"
    resp = await client.post(url, data=big, headers={**auth(), "Content-Type": "application/json"})
    body = await _err(resp, 413, "payload_too_large")
    assert "4096" in body["msg"]

    async def chunks() -> Any:  # no Content-Length: refused while reading
        for _ in range(5):
            yield b"x" * 1000

    resp = await client.post(url, data=chunks(), headers=auth())
    await _err(resp, 413, "payload_too_large")


async def test_invalid_filter_details_name_the_path(client: Any) -> None:
    body = {"filter": [[{"field": "name", "operator": "~=", "value": "x"}]]}
    resp = await client.post("/v1/records/mem/Accounts/query?orgId=acme", json=body,
                             headers=auth())
    got = await _err(resp, 400, "invalid_filter")
    assert got["details"][0]["path"] == "filter[0][0].operator"
    assert "~=" in got["details"][0]["msg"]


async def test_unknown_field_in_filter_is_400(client: Any) -> None:
    body = {"filter": [[{"field": "colour", "operator": "==", "value": "red"}]]}
    resp = await client.post("/v1/records/mem/Accounts/query?orgId=acme", json=body,
                             headers=auth())
    got = await _err(resp, 400, "invalid_filter")
    assert got["details"][0]["path"] == "filter[0][0].field"


async def test_unknown_locale_is_400(client: Any) -> None:
    got = await _err(await client.get("/v1/sources?orgId=acme&locale=fr-FR", headers=auth()),
                     400, "invalid_request")
    assert got["details"][0]["path"] == "locale"
    assert "en-US" in got["msg"]


async def test_request_id_echoed_when_sane_else_generated(client: Any) -> None:
    resp = await client.get("/v1/records/nope/A/1?orgId=acme",
                            headers={**auth(), "X-Request-Id": "abc-123.x"})
    assert resp.headers["X-Request-Id"] == "abc-123.x"
    assert (await resp.json())["requestId"] == "abc-123.x"
    resp = await client.get("/v1/records/nope/A/1?orgId=acme",
                            headers={**auth(), "X-Request-Id": "bad id\twith spaces"})
    generated = resp.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert (await resp.json())["requestId"] == generated
    resp = await client.get("/healthz", headers={"X-Request-Id": "x" * 129})
    assert len(resp.headers["X-Request-Id"]) == 32
    ok = await client.get("/v1/sources?orgId=acme", headers=auth())
    assert re.fullmatch(r"[0-9a-f]{32}", ok.headers["X-Request-Id"])


async def test_bug_is_500_without_trace_or_secret(client: Any) -> None:
    resp = await client.get("/v1/records/mem/boom/1?orgId=acme", headers=auth())
    text = await resp.text()
    got = await _err(resp, 500, "internal_error")
    assert got["details"] == [] and "source" not in got
    for leak in ("Traceback", "RuntimeError", "password", BACKEND_PASSWORD, ".py"):
        assert leak not in text


async def test_backend_unavailable_sets_retry_after_and_source(client: Any) -> None:
    resp = await client.get("/v1/records/mem/flaky/1?orgId=acme", headers=auth())
    got = await _err(resp, 503, "backend_unavailable")
    assert resp.headers["Retry-After"] == "8"
    assert got["source"] == {"name": "mem", "status": 503, "error": "maintenance"}
