"""Idempotency-Key never silently forgets (issue 16, repro 3): unexpired keys are never evicted,
a full store refuses new keys (503), each consumer has a quota of keys, only write answers are
kept whole, and the fingerprint compares parsed JSON and If-Match."""

from __future__ import annotations

import json
from typing import Any

import orjson

from gateway.http.keys import STORE
from tests.contract.backends import Harness
from tests.contract.harness_dataservice import DataServiceHarness
from tests.integration.http.memory import STORES
from tests.integration.security.conftest import KEY, ORG, Gateway, auth

URL = f"/v1/records/mem/Contacts?orgId={ORG}"
B_KEY = "consumer-b-key-0003"
TWO = [{"name": "app", "apiKey": KEY, "orgs": [ORG]},
       {"name": "b-app", "apiKey": B_KEY, "orgs": [ORG]}]


def idem(key: str, api_key: str = KEY, **extra: str) -> dict[str, str]:
    return auth(api_key, **{"Idempotency-Key": key, **extra})


def seed_big_accounts(n: int = 200, size: int = 1000) -> None:
    accounts = STORES["mem"].records["Accounts"]
    for i in range(n):
        accounts[str(i + 10)] = {"id": str(i + 10), "name": f"Big {i:04d} " + "x" * size,
                                 "industry": "Energy", "annual_revenue": i,
                                 "date_entered": "2024-01-01T00:00:00Z"}


async def test_read_only_bulks_cannot_push_out_another_consumers_key(
    gateway: Gateway, backend: dict[str, Any]
) -> None:
    seed_big_accounts()
    gw = await gateway(consumers=TWO, state={**backend, "maxBytes": 1024 * 1024})
    first = await gw.post(URL, json={"name": "Bea"}, headers=idem("K", B_KEY))
    assert first.status == 201
    query = {"url": "/v1/records/mem/Accounts/query", "method": "POST",
             "data": {"pageSize": 50}}
    bulk = {"requests": [query] * 5}
    for i in range(6):  # ~250 KB each: together more than the whole 1 MiB store
        resp = await gw.post(f"/v1/bulk?orgId={ORG}", json=bulk, headers=idem(f"A-{i}"))
        answer = await resp.json()
        assert resp.status == 200 and len(await resp.read()) > 200_000
        assert [len(e["contents"]["data"]) for e in answer] == [50] * 5
    again = await gw.post(URL, json={"name": "Bea"}, headers=idem("K", B_KEY))
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert await again.read() == await first.read()
    assert len(STORES["mem"].records["Contacts"]) == 1

    # The read-only bulk's replay: every entry's status, no records.
    replay = await gw.post(f"/v1/bulk?orgId={ORG}", json=bulk, headers=idem("A-0"))
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert [(e["status"], e["contents"]) for e in await replay.json()] == [(200, None)] * 5


async def test_a_bulk_keeps_its_writes_whole_and_its_reads_as_statuses(
    gateway: Gateway, backend: dict[str, Any]
) -> None:
    gw = await gateway(state=backend)
    bulk = {"requests": [
        {"url": "/v1/records/mem/Contacts", "method": "POST", "data": {"name": "W"}},
        {"url": "/v1/records/mem/Accounts/1", "method": "GET"},
        {"url": "/v1/records/mem/Accounts/404", "method": "get"},
        {"url": "/v1/records/mem/Accounts/query", "method": "POST", "data": {}},
    ]}
    first = await (await gw.post(f"/v1/bulk?orgId={ORG}", json=bulk, headers=idem("mix"))).json()
    again = await gw.post(f"/v1/bulk?orgId={ORG}", json=bulk, headers=idem("mix"))
    replayed = await again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e["status"] for e in replayed] == [e["status"] for e in first] == [201, 200, 404, 200]
    assert replayed[0] == first[0]  # the write: whole, the same record id
    assert replayed[1]["contents"] is None and replayed[3]["contents"] is None
    assert replayed[2] == first[2]  # a failed read keeps its (small) error envelope
    assert len(STORES["mem"].records["Contacts"]) == 1


async def test_a_full_store_refuses_new_keys_and_forgets_none(gateway: Gateway) -> None:
    gw = await gateway(state={"backend": "memory", "maxBytes": 4096})
    answers: dict[str, bytes] = {}
    refused = None
    for i in range(100):
        resp = await gw.post(URL, json={"name": f"N{i}"}, headers=idem(f"k{i}"))
        if resp.status == 503:
            refused = resp
            break
        assert resp.status == 201
        answers[f"k{i}"] = await resp.read()
    assert refused is not None, "the store never filled up"
    body = await refused.json()
    assert body["error"] == "backend_unavailable" and body["code"] == 503
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(STORES["mem"].records["Contacts"]) == len(answers)  # the refused one never ran
    for i, (key, answer) in enumerate(answers.items()):  # every kept key still replays
        again = await gw.post(URL, json={"name": f"N{i}"}, headers=idem(key))
        assert again.headers["Idempotent-Replayed"] == "true" and await again.read() == answer
    unkeyed = await gw.post(URL, json={"name": "no key"}, headers=auth())
    assert unkeyed.status == 201  # writes without a key are not held up


async def test_each_consumer_has_a_quota_of_keys(
    gateway: Gateway, backend: dict[str, Any]
) -> None:
    gw = await gateway(consumers=TWO, state={**backend, "idempotencyKeysPerConsumer": 3})
    for i in range(3):
        assert (await gw.post(URL, json={"name": f"n{i}"}, headers=idem(f"q{i}"))).status == 201
    over = await gw.post(URL, json={"name": "n3"}, headers=idem("q3"))
    body = await over.json()
    assert over.status == 429 and body["error"] == "rate_limited"
    assert "3" in body["msg"] and int(over.headers["Retry-After"]) > 3600  # keys live 24 h
    assert len(STORES["mem"].records["Contacts"]) == 3  # nothing ran
    again = await gw.post(URL, json={"name": "n0"}, headers=idem("q0"))
    assert again.headers["Idempotent-Replayed"] == "true"  # a repeat needs no new place
    other = await gw.post(URL, json={"name": "n0"}, headers=idem("q0", B_KEY))
    assert other.status == 201  # another consumer's quota is its own
    unkeyed = await gw.post(URL, json={"name": "n4"}, headers=auth())
    assert unkeyed.status == 201  # no key: no quota


async def test_an_answer_not_kept_gives_its_place_back(
    gateway: Gateway, backend: dict[str, Any]
) -> None:
    gw = await gateway(state={**backend, "idempotencyKeysPerConsumer": 1})
    STORES["mem"].down = True
    for i in range(3):  # refused by the backend, not kept: the one place is free again
        assert (await gw.post(URL, json={"name": f"d{i}"}, headers=idem(f"d{i}"))).status == 503
    STORES["mem"].down = False
    assert (await gw.post(URL, json={"name": "d9"}, headers=idem("d9"))).status == 201


async def test_the_same_json_written_differently_is_a_replay(
    gateway: Gateway, backend: dict[str, Any]
) -> None:
    gw = await gateway(state=backend)
    data = {"name": "Ann", "industry": None, "annual_revenue": 2.5}
    compact = orjson.dumps(data)
    spaced = json.dumps(dict(reversed(list(data.items()))), indent=4).encode()
    headers = idem("json-k", **{"Content-Type": "application/json"})
    first = await gw.post(URL, data=compact, headers=headers)
    again = await gw.post(URL, data=spaced, headers=headers)
    assert first.status == again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await gw.post(URL, data=json.dumps({**data, "name": "Bob"}), headers=headers)
    assert other.status == 409 and (await other.json())["details"][0]["path"] == "Idempotency-Key"
    assert len(STORES["mem"].records["Contacts"]) == 1


async def test_if_match_is_part_of_the_request(gateway: Gateway) -> None:
    gw = await gateway()
    one = f"/v1/records/mem/Accounts/1?orgId={ORG}"
    first = await gw.patch(one, json={"industry": "Toys"}, headers=idem("im", **{"If-Match": "1"}))
    assert first.status in (200, 409)
    other = await gw.patch(one, json={"industry": "Toys"},
                           headers=idem("im", **{"If-Match": "2"}))
    body = await other.json()
    assert other.status == 409 and "Idempotent-Replayed" not in other.headers
    assert body["details"][0]["path"] == "Idempotency-Key"  # a different request, not a replay


async def test_a_429_is_not_kept_under_a_key(harness: Harness, gateway: Gateway) -> None:
    gw = await gateway(sources={harness.type: harness.source(retries=0)})
    url = f"/v1/records/{harness.type}/{harness.roles.entity}?orgId={ORG}"
    data = {**harness.roles.writable, harness.roles.text: "Throttled Inc"}
    await gw.get(url + "&pageSize=1", headers=auth())  # log in first: only the create is refused
    harness.emulator.faults.rate_limit(times=1, retry_after=0, path=harness.create_path(),
                                       method="POST")
    first = await gw.post(url, json=data, headers=idem("throttled"))
    assert first.status == 429, await first.text()
    again = await gw.post(url, json=data, headers=idem("throttled"))
    assert again.status == 201 and "Idempotent-Replayed" not in again.headers
    made = [r for r in harness.records() if r.get(harness.roles.text) == "Throttled Inc"]
    assert len(made) == 1


async def test_a_busy_record_is_not_kept_under_a_key(aiohttp_server: Any, gateway: Gateway) -> None:
    h = DataServiceHarness()
    await h.start(aiohttp_server)
    gw = await gateway(sources={h.type: h.source()}, state={"recordLockWait": 0})
    created = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}?orgId={ORG}",
                            json=h.roles.writable, headers=auth())
    rid = (await created.json())["data"]["id"]
    url = f"/v1/records/{h.type}/{h.roles.entity}/{rid}?orgId={ORG}"
    store = gw.app[STORE]
    lock = [f"lock:{h.type}:{h.roles.entity.lower()}:{rid.lower()}"]
    assert await store.lock(lock, "another-replica", 30)  # a write elsewhere holds the record
    busy = await gw.patch(url, json={h.roles.text: "Later"}, headers=idem("busy"))
    body = await busy.json()
    assert busy.status == 409 and busy.headers["Retry-After"] == "1"
    assert "in progress" in body["msg"]
    await store.unlock(lock, "another-replica")
    done = await gw.patch(url, json={h.roles.text: "Later"}, headers=idem("busy"))
    assert done.status == 200 and "Idempotent-Replayed" not in done.headers
