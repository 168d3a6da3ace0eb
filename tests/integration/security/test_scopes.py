"""Consumer scopes: sources, entities and operations, on every route and every bulk entry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.security.conftest import KEY, ORG, Gateway, auth, memory_source

SOURCES = {"mem": memory_source(), "other": memory_source()}


def consumer(**scopes: Any) -> list[dict[str, Any]]:
    return [{"name": "app", "apiKey": KEY, "orgs": [ORG], "scopes": scopes}]


async def test_read_only_consumer(gateway: Gateway) -> None:
    gw = await gateway(consumers=consumer(operations=["read"]))
    assert (await gw.get(f"/v1/records/mem/Accounts/1?orgId={ORG}", headers=auth())).status == 200
    query = await gw.post(f"/v1/records/mem/Accounts/query?orgId={ORG}", json={},
                          headers=auth())
    assert query.status == 200  # a query is a read, whatever its method
    for method, url in (("POST", "/v1/records/mem/Accounts"),
                        ("PATCH", "/v1/records/mem/Accounts/1"),
                        ("DELETE", "/v1/records/mem/Accounts/1"),
                        ("POST", "/v1/bulk")):
        resp = await gw.request(method, f"{url}?orgId={ORG}", json={"name": "x"},
                                headers=auth())
        body = await resp.json()
        assert resp.status == 403 and body["error"] == "forbidden", (method, url)
        expected = {"POST": "write", "PATCH": "write", "DELETE": "delete"}[method]
        if url == "/v1/bulk":
            expected = "bulk"
        assert f"'{expected}'" in body["msg"] and "it may: read" in body["msg"]


async def test_entity_patterns(gateway: Gateway) -> None:
    gw = await gateway(sources=SOURCES,
                       consumers=consumer(entities=["mem/Accounts", "other/*"]))
    assert (await gw.get(f"/v1/records/mem/Accounts/1?orgId={ORG}", headers=auth())).status == 200
    assert (await gw.get(f"/v1/records/other/Things?orgId={ORG}", headers=auth())).status in (
        200, 404)  # allowed through; the backend decides whether the entity exists
    resp = await gw.get(f"/v1/records/mem/Contacts?orgId={ORG}", headers=auth())
    body = await resp.json()
    assert resp.status == 403 and "'mem/Contacts'" in body["msg"]


async def test_sources_scope_lists_only_allowed(gateway: Gateway) -> None:
    gw = await gateway(sources=SOURCES, consumers=consumer(sources=["other"]))
    listed = await (await gw.get(f"/v1/sources?orgId={ORG}", headers=auth())).json()
    assert [s["name"] for s in listed["data"]] == ["other"]
    resp = await gw.get(f"/v1/records/mem/Accounts/1?orgId={ORG}", headers=auth())
    assert resp.status == 403 and "'mem'" in (await resp.json())["msg"]


async def test_entity_scope_hides_unnamed_sources(gateway: Gateway) -> None:
    gw = await gateway(sources=SOURCES, consumers=consumer(entities=["mem/Accounts"]))
    listed = await (await gw.get(f"/v1/sources?orgId={ORG}", headers=auth())).json()
    assert [s["name"] for s in listed["data"]] == ["mem"]


async def test_entity_scope_lists_only_allowed_entities(gateway: Gateway) -> None:
    gw = await gateway(sources=SOURCES, consumers=consumer(entities=["mem/Accounts"]))
    resp = await gw.get(f"/v1/sources/mem/entities?orgId={ORG}", headers=auth())
    listed = await resp.json()
    assert resp.status == 200, listed
    assert [e["name"] for e in listed["data"]] == ["Accounts"]


async def test_legacy_sources_key_still_works(gateway: Gateway) -> None:
    gw = await gateway(sources=SOURCES, consumers=[
        {"name": "app", "apiKey": KEY, "orgs": [ORG], "sources": ["mem"]}])
    assert (await gw.get(f"/v1/records/mem/Accounts/1?orgId={ORG}", headers=auth())).status == 200
    assert (await gw.get(f"/v1/records/other/X?orgId={ORG}", headers=auth())).status == 403


async def test_scopes_apply_to_each_bulk_entry(gateway: Gateway) -> None:
    gw = await gateway(consumers=consumer(operations=["read", "bulk", "write"],
                                          entities=["mem/Accounts"]))
    resp = await gw.post(f"/v1/bulk?orgId={ORG}", headers=auth(), json={"requests": [
        {"url": "/v1/records/mem/Accounts/1"},
        {"url": "/v1/records/mem/Accounts/1", "method": "DELETE"},
        {"url": "/v1/records/mem/Contacts", "method": "POST", "data": {"name": "x"}},
        {"url": "/v1/records/mem/Accounts", "method": "POST", "data": {"name": "y"}},
    ]})
    assert resp.status == 200
    entries = await resp.json()
    assert [e["status"] for e in entries] == [200, 403, 403, 201]
    assert "'delete'" in entries[1]["contents"]["msg"]
    assert "'mem/Contacts'" in entries[2]["contents"]["msg"]


@pytest.mark.parametrize(("scopes", "problem"), [
    ({"sources": ["nope"]}, "no source named 'nope'"),
    ({"entities": ["Accounts"]}, 'of the form "source/entity"'),
    ({"entities": ["ghost/*"]}, "no source matches 'ghost'"),
    ({"operations": ["admin"]}, "read"),
])
def test_bad_scopes_are_config_errors(scopes: dict[str, Any], problem: str) -> None:
    from pydantic import ValidationError

    from tests.integration.security.conftest import config

    with pytest.raises(ValidationError, match=problem):
        config(consumers=consumer(**scopes))


def test_both_sources_keys_is_a_config_error() -> None:
    from pydantic import ValidationError

    from tests.integration.security.conftest import config

    with pytest.raises(ValidationError, match=r"scopes\.sources only"):
        config(consumers=[{"name": "app", "apiKey": KEY, "orgs": [ORG], "sources": ["mem"],
                           "scopes": {"sources": ["mem"]}}])
