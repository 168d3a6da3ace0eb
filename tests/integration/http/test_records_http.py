"""Records and discovery over real HTTP: the success envelopes and the write rules of spec §4."""

from __future__ import annotations

from typing import Any

from tests.integration.http.conftest import APP_KEY, HASHED_KEY, NARROW_KEY, auth

Q = "?orgId=acme"


async def test_query_post_answers_page_envelope(client: Any) -> None:
    body = {
        "fields": "name,industry",
        "filter": [[{"field": "annual_revenue", "operator": ">=", "value": "1000"},
                    {"field": "industry", "operator": "==", "value": "Energy"}],
                   [{"field": "name", "operator": "startsWith", "value": "Ac"}]],
        "orderBy": [{"field": "name", "order": "ASC"}],
        "pageSize": 2, "pageNo": 1,
    }
    resp = await client.post("/v1/records/mem/Accounts/query" + Q, json=body, headers=auth())
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    got = await resp.json()
    assert got["code"] == 0 and got["msg"] == "OK"
    assert got["pagination"] == {"pageNo": 1, "pageSize": 2, "totalSize": 3}
    assert got["data"] == [
        {"id": "1", "name": "Acme", "industry": "Energy"},
        {"id": "2", "name": "Acorn", "industry": "Retail"},
    ]


async def test_query_get_with_query_string_and_past_last_page(client: Any) -> None:
    resp = await client.get(
        "/v1/records/mem/Accounts",
        params={"orgId": "acme",
                "filter": '[[{"field":"industry","operator":"==","value":"Energy"}]]',
                "orderBy": '[{"field":"annual_revenue","order":"DESC"}]', "fields": "name"},
        headers=auth(),
    )
    got = await resp.json()
    assert resp.status == 200, got
    assert [r["name"] for r in got["data"]] == ["Acme", "Globex"]
    assert got["pagination"]["totalSize"] == 2
    resp = await client.get("/v1/records/mem/Accounts?orgId=acme&pageNo=9", headers=auth())
    got = await resp.json()
    assert resp.status == 200 and got["data"] == [] and got["pagination"]["totalSize"] == 5


async def test_get_one_record_honours_fields(client: Any) -> None:
    resp = await client.get("/v1/records/mem/Accounts/3?orgId=acme&fields=name", headers=auth())
    assert resp.status == 200
    assert await resp.json() == {"data": {"id": "3", "name": "Globex"}, "code": 0, "msg": "OK"}


async def test_get_one_refuses_unknown_field_and_parameter(client: Any) -> None:
    resp = await client.get("/v1/records/mem/Accounts/3?orgId=acme&fields=nope", headers=auth())
    got = await resp.json()
    assert resp.status == 400 and got["details"][0]["path"] == "fields[0]"
    resp = await client.get("/v1/records/mem/Accounts/3?orgId=acme&colour=red", headers=auth())
    got = await resp.json()
    assert resp.status == 400 and got["details"] == [
        {"path": "colour", "msg": "Unknown key 'colour'"}
    ]


async def test_create_is_201_with_new_id(client: Any) -> None:
    resp = await client.post("/v1/records/mem/Accounts?orgId=acme", json={"name": "New Co"},
                             headers=auth())
    got = await resp.json()
    assert resp.status == 201, got
    assert got["data"]["name"] == "New Co" and got["data"]["id"]
    again = await client.get(f"/v1/records/mem/Accounts/{got['data']['id']}?orgId=acme",
                             headers=auth())
    assert (await again.json())["data"]["name"] == "New Co"


async def test_create_refuses_unknown_fields_and_non_objects(client: Any) -> None:
    resp = await client.post("/v1/records/mem/Accounts?orgId=acme", json={"nmae": "typo"},
                             headers=auth())
    got = await resp.json()
    assert resp.status == 400 and got["error"] == "invalid_request"
    assert got["details"][0]["path"] == "nmae"
    resp = await client.post("/v1/records/mem/Accounts?orgId=acme", json=[1, 2], headers=auth())
    got = await resp.json()
    assert resp.status == 400 and got["details"][0]["path"] == "body"
    resp = await client.post("/v1/records/mem/Accounts?orgId=acme", data=b"{oops",
                             headers={**auth(), "Content-Type": "application/json"})
    got = await resp.json()
    assert resp.status == 400 and got["error"] == "invalid_request"
    assert got["msg"].startswith("Not valid JSON")


async def test_patch_with_version_then_stale_version_conflicts(client: Any) -> None:
    url = "/v1/records/mem/Accounts/2?orgId=acme"
    resp = await client.patch(url, json={"industry": "Food", "version": "1"}, headers=auth())
    got = await resp.json()
    assert resp.status == 200, got
    assert got["data"]["industry"] == "Food" and got["data"]["name"] == "Acorn"
    resp = await client.put(url, json={"industry": "Toys"}, headers={**auth(), "If-Match": '"1"'})
    got = await resp.json()
    assert resp.status == 409 and got["error"] == "conflict"
    assert got["source"] == {"name": "mem", "status": 409, "error": "version_mismatch"}
    resp = await client.put(url, json={"industry": "Toys"}, headers={**auth(), "If-Match": '"2"'})
    assert resp.status == 200


async def test_patch_refuses_id_mismatch_and_version_disagreement(client: Any) -> None:
    url = "/v1/records/mem/Accounts/2?orgId=acme"
    resp = await client.patch(url, json={"id": "3", "name": "x"}, headers=auth())
    got = await resp.json()
    assert resp.status == 400 and got["details"][0]["path"] == "id"
    resp = await client.patch(url, json={"name": "x", "version": "1"},
                              headers={**auth(), "If-Match": "2"})
    got = await resp.json()
    assert resp.status == 400 and got["details"][0]["path"] == "version"
    resp = await client.patch(url, json={"id": "2", "name": "Same"}, headers=auth())
    assert resp.status == 200 and (await resp.json())["data"]["name"] == "Same"


async def test_delete_answers_the_id_then_404(client: Any) -> None:
    url = "/v1/records/mem/Accounts/4?orgId=acme"
    resp = await client.delete(url, headers=auth())
    assert resp.status == 200
    assert await resp.json() == {"data": {"id": "4"}, "code": 0, "msg": "OK"}
    resp = await client.get(url, headers=auth())
    got = await resp.json()
    assert resp.status == 404 and got["msg"] == "Record 4 was not found in mem/Accounts"
    assert got["source"] == {"name": "mem", "status": 404, "error": "not_found"}


async def test_sources_lists_only_what_the_key_may_use(client: Any) -> None:
    resp = await client.get("/v1/sources?orgId=acme", headers=auth(APP_KEY))
    got = await resp.json()
    assert {s["name"] for s in got["data"]} == {"mem", "other"}
    # No call made yet: listing checks this org's credentials (memory: always fine).
    assert {"name": "mem", "type": "memory", "health": "ok", "reason": None,
            "circuit": "closed"} in got["data"]
    resp = await client.get("/v1/sources?orgId=any-org", headers=auth(HASHED_KEY))
    assert [s["name"] for s in (await resp.json())["data"]] == ["mem"]
    resp = await client.get("/v1/sources?orgId=acme", headers=auth(NARROW_KEY))
    assert [s["name"] for s in (await resp.json())["data"]] == ["other"]


async def test_health_follows_calls(client: Any) -> None:
    await client.get("/v1/records/mem/Accounts/1?orgId=acme", headers=auth())
    await client.get("/v1/records/other/flaky/1?orgId=acme", headers=auth())
    resp = await client.get("/v1/sources?orgId=acme", headers=auth())
    health = {s["name"]: s["health"] for s in (await resp.json())["data"]}
    assert health == {"mem": "ok", "other": "down"}


async def test_entities_lists_fields(client: Any) -> None:
    resp = await client.get("/v1/sources/mem/entities?orgId=acme", headers=auth())
    got = await resp.json()
    assert resp.status == 200
    (accounts,) = got["data"]
    assert accounts["name"] == "Accounts"
    assert {"name": "annual_revenue", "type": "number", "filterable": True,
            "sortable": True} in accounts["fields"]


async def test_org_with_own_credentials_gets_its_own_connector(client: Any) -> None:
    from gateway.http.keys import SOURCES

    await client.get("/v1/records/mem/Accounts/1?orgId=globex", headers=auth())
    await client.get("/v1/records/mem/Accounts/1?orgId=acme", headers=auth())
    source = client.app[SOURCES].get("mem")
    assert source.connector("globex").password == "globex-pw-7777"
    assert source.connector("acme") is source.connector(None)
    assert source.connector("acme").password == "s3cret-backend-pw"
