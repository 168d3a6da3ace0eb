"""The read cache seen from a consumer: hits without backend calls, who shares an answer,
ETag and 304, Cache-Control, expiry, and the metrics."""

from __future__ import annotations

import orjson

from tests.integration.cache.conftest import (
    KEY,
    NARROW_KEY,
    ORG,
    TWIN_KEY,
    StartGateway,
    auth,
    cache_config,
    first_id,
    read,
    record_calls,
    until,
)

ACCOUNTS = "/v1/records/sugarcrm/Accounts"
CONTACTS = "/v1/records/sugarcrm/Contacts"


async def test_a_second_identical_read_calls_no_backend(start_gateway: StartGateway,
                                                         sugar) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    body = {"filter": [[{"field": "industry", "operator": "==", "value": "Energy"}]],
            "orderBy": [{"field": "name"}], "pageSize": 5, "fields": "name,industry"}
    # The same query with its keys in another order is the same query.
    shuffled = {k: body[k] for k in reversed(list(body))}
    first_one, _ = await read(gw, f"{ACCOUNTS}/{rid}")
    first_list = await gw.client.post(f"{ACCOUNTS}/query?orgId={ORG}", json=body, headers=auth())
    first_get = await read(gw, f"{ACCOUNTS}?pageSize=3&fields=name")
    before = record_calls(sugar)
    again_one, resp = await read(gw, f"{ACCOUNTS}/{rid}")
    again_list = await gw.client.post(f"{ACCOUNTS}/query?orgId={ORG}", json=shuffled,
                                      headers=auth())
    again_get = await read(gw, f"{ACCOUNTS}?fields=name&pageSize=3")
    assert record_calls(sugar) == before
    assert again_one == first_one and again_one["data"]["id"] == rid
    assert await again_list.json() == await first_list.json()
    assert again_get[0] == first_get[0]
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_reads_that_differ_do_not_share(start_gateway: StartGateway, sugar) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    paths = [f"{ACCOUNTS}/{rid}", f"{ACCOUNTS}/{rid}?fields=name", f"{ACCOUNTS}?pageSize=2",
             f"{ACCOUNTS}?pageSize=2&pageNo=2"]
    answers = []
    for path in paths:
        calls = record_calls(sugar)
        body, _ = await read(gw, path)
        assert record_calls(sugar) > calls, path  # each its own backend call
        answers.append(body)
    assert set(answers[1]["data"]) == {"id", "name"} and len(answers[0]["data"]) > 2
    assert answers[2]["data"] != answers[3]["data"]
    calls = record_calls(sugar)
    other_org = await gw.client.get(f"{ACCOUNTS}/{rid}?orgId=globex", headers=auth())
    assert other_org.status == 200 and record_calls(sugar) == calls + 1


async def test_consumers_share_answers_only_where_their_scopes_agree(
        start_gateway: StartGateway, sugar) -> None:
    gw = await start_gateway(cache_config())
    contact = next(c for c in sugar.emulator.store.all("Contacts") if c.get("account_id"))
    path = f"{CONTACTS}/{contact['id']}?fields=account_name,account_id"
    full, _ = await read(gw, path, key=KEY)
    calls = record_calls(sugar)
    narrow, _ = await read(gw, path, key=NARROW_KEY)
    # The narrow consumer may not read Accounts: the related name is cut, and the answer is
    # its own (a backend call), not the one cached for the consumer allowed every entity.
    assert full["data"]["account_name"] and narrow["data"]["account_name"] is None
    assert narrow["data"]["account_id"] == full["data"]["account_id"]
    assert record_calls(sugar) > calls
    calls = record_calls(sugar)
    twin, _ = await read(gw, path, key=TWIN_KEY)  # same scopes as KEY: shares its answer
    assert twin == full and record_calls(sugar) == calls
    narrow_again, _ = await read(gw, path, key=NARROW_KEY)
    assert narrow_again == narrow and record_calls(sugar) == calls


async def test_etag_and_304_on_every_read_form(start_gateway: StartGateway, sugar) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    body = {"pageSize": 2}
    forms = {
        "get": lambda h: gw.client.get(f"{ACCOUNTS}/{rid}?orgId={ORG}", headers=h),
        "query_get": lambda h: gw.client.get(f"{ACCOUNTS}?orgId={ORG}&pageSize=2", headers=h),
        "query": lambda h: gw.client.post(f"{ACCOUNTS}/query?orgId={ORG}", json=body,
                                          headers=h),
    }
    for name, send in forms.items():
        resp = await send(auth())
        raw = await resp.read()
        etag = resp.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10, name
        for asked in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
            again = await send(auth(**{"If-None-Match": asked}))
            assert again.status == 304, (name, asked)
            assert await again.read() == b""
            assert again.headers["ETag"] == etag
            assert again.headers["Cache-Control"].startswith("private, max-age=")
        other = await send(auth(**{"If-None-Match": '"something-else"'}))
        assert other.status == 200 and await other.read() == raw, name


async def test_etag_without_cache_and_its_change_with_the_data(start_gateway: StartGateway,
                                                                sugar) -> None:
    gw = await start_gateway(None)  # no cache: every read still has its ETag, and 304s work
    rid = first_id(sugar)
    _, resp = await read(gw, f"{ACCOUNTS}/{rid}")
    etag = resp.headers["ETag"]
    assert resp.headers["Cache-Control"] == "private, no-cache"
    assert "Age" not in resp.headers
    await read(gw, f"{ACCOUNTS}/{rid}", status=304, **{"If-None-Match": etag})
    patched = await gw.client.patch(f"{ACCOUNTS}/{rid}?orgId={ORG}", json={"name": "Renamed"},
                                    headers=auth(**{"If-None-Match": etag}))
    assert patched.status == 200 and "ETag" not in patched.headers
    assert "Cache-Control" not in patched.headers
    body, resp = await read(gw, f"{ACCOUNTS}/{rid}", **{"If-None-Match": etag})
    assert body["data"]["name"] == "Renamed" and resp.headers["ETag"] != etag


async def test_errors_carry_no_etag_and_are_not_cached(start_gateway: StartGateway,
                                                       sugar) -> None:
    gw = await start_gateway(cache_config())
    missing = f"{ACCOUNTS}/{sugar.missing_id}"
    for _ in range(2):
        body, resp = await read(gw, missing, status=404)
        assert "ETag" not in resp.headers and body["error"] == "not_found"
    assert record_calls(sugar) == 2


async def test_cache_control_says_whether_an_answer_may_be_reused(start_gateway: StartGateway,
                                                                  sugar) -> None:
    gw = await start_gateway(cache_config(ttl="90s", entities=["Accounts"]))
    rid = first_id(sugar)
    _, resp = await read(gw, f"{ACCOUNTS}/{rid}")
    assert resp.headers["Cache-Control"] == "private, max-age=90"
    assert resp.headers["Vary"] == "Authorization"
    contact = first_id(sugar, "Contacts")
    _, resp = await read(gw, f"{CONTACTS}/{contact}")  # not among cache.entities
    assert resp.headers["Cache-Control"] == "private, no-cache"
    calls = record_calls(sugar)
    await read(gw, f"{CONTACTS}/{contact}")
    assert record_calls(sugar) == calls + 1  # Contacts are not cached


async def test_a_consumer_asking_no_cache_gets_the_backend_answer(start_gateway: StartGateway,
                                                                  sugar) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    await read(gw, f"{ACCOUNTS}/{rid}")
    sugar.emulator.store.live("Accounts", rid)["name"] = "Changed In Sugar"
    cached, _ = await read(gw, f"{ACCOUNTS}/{rid}")
    assert cached["data"]["name"] != "Changed In Sugar"  # written behind the gateway's back
    calls = record_calls(sugar)
    fresh, _ = await read(gw, f"{ACCOUNTS}/{rid}", **{"Cache-Control": "no-cache"})
    assert fresh["data"]["name"] == "Changed In Sugar" and record_calls(sugar) == calls + 1
    kept, _ = await read(gw, f"{ACCOUNTS}/{rid}")  # the fresh answer replaced the old one
    assert kept == fresh and record_calls(sugar) == calls + 1


async def test_an_answer_expires_after_ttl(start_gateway: StartGateway, sugar) -> None:
    gw = await start_gateway(cache_config(ttl="50ms"))
    rid = first_id(sugar)
    _, resp = await read(gw, f"{ACCOUNTS}/{rid}")
    assert resp.headers["Cache-Control"] == "private, max-age=0"  # whole seconds, rounded down
    sugar.emulator.store.live("Accounts", rid)["name"] = "Changed In Sugar"

    async def seen() -> bool:
        body, _ = await read(gw, f"{ACCOUNTS}/{rid}")
        return bool(body["data"]["name"] == "Changed In Sugar")

    await until(seen)


async def test_metrics_count_hits_misses_and_bytes(start_gateway: StartGateway, sugar) -> None:
    gw = await start_gateway(cache_config())
    rid = first_id(sugar)
    for _ in range(3):
        await read(gw, f"{ACCOUNTS}/{rid}")
    labels = {"source": "sugarcrm"}
    assert gw.sample("gateway_cache_misses_total", **labels) == 1
    assert gw.sample("gateway_cache_hits_total", **labels) == 2
    held = gw.sample("gateway_cache_bytes", **labels)
    body, _ = await read(gw, f"{ACCOUNTS}/{rid}")
    assert held > len(orjson.dumps(body))
    resp = await gw.client.get("/metrics")
    text = await resp.text()
    for name in ("gateway_cache_hits_total", "gateway_cache_misses_total",
                 "gateway_cache_bytes"):
        assert f'{name}{{source="sugarcrm"}}' in text


async def test_a_small_cache_keeps_what_fits(start_gateway: StartGateway, sugar) -> None:
    gw = await start_gateway(cache_config(maxBytes="2KiB"))
    big, _ = await read(gw, f"{ACCOUNTS}?pageSize=50")  # larger than the whole cache
    assert len(orjson.dumps(big)) > 2048
    calls = record_calls(sugar)
    await read(gw, f"{ACCOUNTS}?pageSize=50")
    assert record_calls(sugar) > calls  # not kept
    assert gw.sample("gateway_cache_bytes", source="sugarcrm") <= 2048
