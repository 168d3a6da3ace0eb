"""Kit: one-record CRUD and every error row of spec §2 a backend can cause, on every source."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.testing.client import AUTH, ORG, query
from gateway.testing.harness import emulator

__all__ = [
    "test_a_passing_5xx_on_a_read_is_retried",
    "test_a_write_whose_answer_is_lost_is_not_repeated",
    "test_backend_5xx_after_retries_is_502",
    "test_backend_rate_limit_after_retries_is_429_with_retry_after",
    "test_backend_refusing_our_identity_is_403_with_the_source",
    "test_bad_filter_names_the_path",
    "test_create_read_update_delete",
    "test_invalid_record_is_400_with_the_backend_message",
    "test_maintenance_is_503_with_retry_after",
    "test_malformed_backend_answer_is_502",
    "test_missing_or_unknown_key_is_401_and_foreign_org_is_403",
    "test_record_not_found_is_told_in_the_asked_locale",
    "test_refused_gateway_credentials_are_502_backend_auth_failed",
    "test_slow_backend_is_504",
    "test_stale_version_is_a_conflict",
    "test_unknown_field_in_filter_is_400",
    "test_unknown_record_is_404",
    "test_unknown_source_and_entity_are_404",
]


def url(h: Any, suffix: str = "") -> str:
    return f"/v1/records/{h.type}/{h.roles.entity}{suffix}"


async def call(gw: Any, method: str, path: str, status: int, **kw: Any) -> dict[str, Any]:
    resp = await gw.request(method, path, params={"orgId": ORG, **kw.pop("params", {})},
                            headers={**AUTH, **kw.pop("headers", {})}, **kw)
    body = await resp.json()
    assert resp.status == status, body
    if status >= 400:
        assert body["code"] == status
        assert body["requestId"] == resp.headers["X-Request-Id"]
        assert "Traceback" not in str(body)
    return body  # type: ignore[no-any-return]


async def test_create_read_update_delete(harness: Any, gw: Any) -> None:
    r = harness.roles
    created = (await call(gw, "POST", url(harness), 201, json=r.writable))["data"]
    rid = created["id"]
    assert rid and created[r.text] == r.writable[r.text]
    got = (await call(gw, "GET", url(harness, f"/{rid}"), 200, params={"fields": r.text}))["data"]
    assert got == {"id": rid, r.text: r.writable[r.text]}
    upd = (await call(gw, "PATCH", url(harness, f"/{rid}"), 200,
                      json={r.text: "Renamed Co"}))["data"]
    assert upd[r.text] == "Renamed Co" and upd[r.category] == r.writable[r.category]
    found = await query(gw, harness, {"filter": [[{"field": r.text, "operator": "==",
                                                   "value": "Renamed Co"}]]})
    assert [x["id"] for x in found["data"]] == [rid]
    assert (await call(gw, "DELETE", url(harness, f"/{rid}"), 200))["data"] == {"id": rid}
    gone = await call(gw, "GET", url(harness, f"/{rid}"), 404)
    assert gone["error"] == "not_found"


async def test_stale_version_is_a_conflict(harness: Any, gw: Any) -> None:
    r = harness.roles
    rec = (await call(gw, "POST", url(harness), 201, json=r.writable))["data"]
    version = harness.version_of(rec)
    await call(gw, "PATCH", url(harness, f"/{rec['id']}"), 200, json={r.text: "First"})
    body = await call(gw, "PATCH", url(harness, f"/{rec['id']}"), 409,
                      json={r.text: "Second"}, headers={"If-Match": str(version)})
    assert body["error"] == "conflict" and body["source"]["name"] == harness.type


async def test_invalid_record_is_400_with_the_backend_message(harness: Any, gw: Any) -> None:
    body = await call(gw, "POST", url(harness), 400, json=harness.roles.invalid)
    assert body["error"] == "invalid_request"
    assert body["source"]["status"] in (400, 422)


@pytest.mark.parametrize(("path", "error"), [
    ("/v1/records/nosuch/Accounts/query", "not_found"),
    ("/v1/records/{type}/NoSuchEntity/query", "not_found"),
])
async def test_unknown_source_and_entity_are_404(
    harness: Any, gw: Any, path: str, error: str
) -> None:
    body = await call(gw, "POST", path.format(type=harness.type), 404, json={})
    assert body["error"] == error


async def test_unknown_record_is_404(harness: Any, gw: Any) -> None:
    body = await call(gw, "GET", url(harness, f"/{harness.missing_id}"), 404)
    assert body["source"]["status"] == 404


async def test_bad_filter_names_the_path(harness: Any, gw: Any) -> None:
    r = harness.roles
    body = await call(gw, "POST", url(harness, "/query"), 400, json={"filter": [
        [{"field": r.text, "operator": "==", "value": "x"},
         {"field": r.text, "operator": "like", "value": "x"}]]})
    assert body["error"] == "invalid_filter"
    assert body["details"][0]["path"] == "filter[0][1].operator"


async def test_unknown_field_in_filter_is_400(harness: Any, gw: Any) -> None:
    body = await call(gw, "POST", url(harness, "/query"), 400, json={"filter": [
        [{"field": "no_such_field", "operator": "==", "value": "x"}]]})
    assert body["error"] == "invalid_filter"
    assert body["details"][0]["path"].startswith("filter[0][0]")


async def test_missing_or_unknown_key_is_401_and_foreign_org_is_403(
    harness: Any, gw: Any
) -> None:
    resp = await gw.post(url(harness, "/query"), params={"orgId": ORG}, json={})
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
    resp = await gw.post(url(harness, "/query"), params={"orgId": ORG}, json={},
                         headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401
    body = await call(gw, "POST", url(harness, "/query"), 403, json={},
                      params={"orgId": "globex"})
    assert body["error"] == "forbidden"


async def test_refused_gateway_credentials_are_502_backend_auth_failed(
    harness: Any, make_gateway: Any
) -> None:
    src = harness.source()
    src["auth"] = {**src["auth"], **harness.refused_auth}
    gw = await make_gateway({harness.type: src})
    body = await call(gw, "POST", url(harness, "/query"), 502, json={})
    assert body["error"] == "backend_auth_failed"
    for secret in harness.refused_auth.values():
        assert secret not in str(body)


async def test_backend_5xx_after_retries_is_502(harness: Any, gw: Any) -> None:
    emulator(harness).faults.fail(500, times=10)
    body = await call(gw, "POST", url(harness, "/query"), 502, json={})
    assert body["error"] == "backend_error" and body["source"]["status"] == 500


async def test_a_passing_5xx_on_a_read_is_retried(harness: Any, gw: Any) -> None:
    await query(gw, harness, {"pageSize": 1})  # logged in
    emulator(harness).faults.fail(502, times=1)
    got = await query(gw, harness, {"pageSize": 2})
    assert len(got["data"]) == 2


async def test_backend_rate_limit_after_retries_is_429_with_retry_after(
    harness: Any, gw: Any
) -> None:
    await query(gw, harness, {"pageSize": 1})
    emulator(harness).faults.rate_limit(times=10, retry_after=0.01)
    resp = await gw.get(url(harness, f"/{harness.missing_id}"), params={"orgId": ORG},
                        headers=AUTH)
    body = await resp.json()
    assert resp.status == 429 and body["error"] == "rate_limited", body
    assert "Retry-After" in resp.headers


async def test_maintenance_is_503_with_retry_after(harness: Any, gw: Any) -> None:
    emulator(harness).faults.maintenance(True)
    resp = await gw.post(url(harness, "/query"), params={"orgId": ORG}, json={}, headers=AUTH)
    body = await resp.json()
    assert resp.status == 503 and body["error"] == "backend_unavailable", body
    assert "Retry-After" in resp.headers


async def test_malformed_backend_answer_is_502(harness: Any, gw: Any) -> None:
    await query(gw, harness, {"pageSize": 1})
    emulator(harness).faults.malformed(times=10)
    body = await call(gw, "POST", url(harness, "/query"), 502, json={})
    assert body["error"] == "backend_error"


async def test_slow_backend_is_504(harness: Any, gateway_for: Any) -> None:
    gw = await gateway_for(harness, timeout=0.3, retries=0)
    await query(gw, harness, {"pageSize": 1})
    emulator(harness).faults.latency = 1.0
    body = await call(gw, "POST", url(harness, "/query"), 504, json={})
    assert body["error"] == "backend_timeout"


async def test_a_write_whose_answer_is_lost_is_not_repeated(harness: Any, gw: Any) -> None:
    r = harness.roles
    before = len(harness.records())
    emulator(harness).faults.drop(times=1, after_processing=True, method="POST",
                                 path=harness.create_path())
    body = await call(gw, "POST", url(harness), 502, json=r.writable)
    assert body["error"] == "backend_error"
    assert len(harness.records()) == before + 1  # arrived once, never twice


@pytest.mark.parametrize(("locale", "text"), [
    ("zh-CN", "未找到记录"), ("ja_JP", "見つかりません"), ("es-ES", "No se encontró el registro"),
])
async def test_record_not_found_is_told_in_the_asked_locale(
    harness: Any, gw: Any, locale: str, text: str
) -> None:
    body = await call(gw, "GET", url(harness, f"/{harness.missing_id}"), 404,
                      params={"locale": locale})
    assert text in body["msg"] and harness.missing_id in body["msg"]


async def test_backend_refusing_our_identity_is_403_with_the_source(harness: Any, gw: Any) -> None:
    await query(gw, harness, {"pageSize": 1})  # logged in
    emulator(harness).faults.fail(403, times=1)
    body = await call(gw, "POST", url(harness, "/query"), 403, json={})
    assert body["error"] == "forbidden"
    assert body["source"]["name"] == harness.type and body["source"]["status"] == 403
