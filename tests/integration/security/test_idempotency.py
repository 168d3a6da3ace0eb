"""Idempotency-Key: one write per key, the first answer replayed byte for byte, misuse refused."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.contract.backends import Harness
from tests.integration.http.memory import STORES
from tests.integration.security.conftest import KEY, ORG, Gateway, auth

URL = f"/v1/records/mem/Contacts?orgId={ORG}"


def idem(key: str, **extra: str) -> dict[str, str]:
    return auth(**{"Idempotency-Key": key, **extra})


async def test_repeat_replays_the_first_answer(gateway: Gateway, backend: dict[str, Any]) -> None:
    gw = await gateway(state=backend)
    first = await gw.post(URL, json={"name": "Ann"}, headers=idem("k-1"))
    body1 = await first.read()
    again = await gw.post(URL, json={"name": "Ann"}, headers=idem("k-1"))
    body2 = await again.read()
    assert first.status == again.status == 201
    assert body1 == body2  # byte for byte: the same id, not a second record
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]  # a call of its own
    assert len(STORES["mem"].records["Contacts"]) == 1


async def test_other_key_or_no_key_writes_again(gateway: Gateway) -> None:
    gw = await gateway()
    for headers in (idem("a"), idem("b"), auth(), auth()):
        assert (await gw.post(URL, json={"name": "Ann"}, headers=headers)).status == 201
    assert len(STORES["mem"].records["Contacts"]) == 4


async def test_same_key_different_body_is_409(gateway: Gateway, backend: dict[str, Any]) -> None:
    gw = await gateway(state=backend)
    assert (await gw.post(URL, json={"name": "Ann"}, headers=idem("k"))).status == 201
    resp = await gw.post(URL, json={"name": "Bob"}, headers=idem("k"))
    body = await resp.json()
    assert resp.status == 409 and body["error"] == "conflict"
    assert "different request" in body["msg"] and body["details"][0]["path"] == "Idempotency-Key"
    assert "Retry-After" not in resp.headers
    assert [r["name"] for r in STORES["mem"].records["Contacts"].values()] == ["Ann"]


async def test_key_is_scoped_by_path_and_method(gateway: Gateway) -> None:
    gw = await gateway()
    created = await (await gw.post(URL, json={"name": "Ann"}, headers=idem("k"))).json()
    rid = created["data"]["id"]
    one = f"/v1/records/mem/Contacts/{rid}?orgId={ORG}"
    patched = await gw.patch(one, json={"name": "Ann B"}, headers=idem("k"))
    assert patched.status == 200 and "Idempotent-Replayed" not in patched.headers
    deleted = await gw.delete(one, headers=idem("k"))
    assert deleted.status == 200
    replay = await gw.delete(one, headers=idem("k"))
    assert replay.status == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert await replay.read() == await deleted.read()  # not the 404 a second delete would be


async def test_client_errors_are_kept_and_locale_does_not_matter(gateway: Gateway) -> None:
    gw = await gateway()
    bad = await gw.post(URL, data=b"{not json", headers=idem("k"))
    again = await gw.post(URL + "&locale=es-ES", data=b"{not json", headers=idem("k"))
    assert bad.status == again.status == 400
    assert await bad.read() == await again.read()
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_backend_refusal_5xx_is_not_kept(gateway: Gateway) -> None:
    gw = await gateway()
    STORES["mem"].down = True
    first = await gw.post(URL, json={"name": "Ann"}, headers=idem("k"))
    assert first.status == 503
    STORES["mem"].down = False
    retry = await gw.post(URL, json={"name": "Ann"}, headers=idem("k"))
    assert retry.status == 201 and "Idempotent-Replayed" not in retry.headers


async def test_bad_keys_are_400(gateway: Gateway) -> None:
    gw = await gateway()
    cases = {"x" * 256: "idempotency", "  ": "empty", "é-key": "ASCII"}
    for key, words in cases.items():
        resp = await gw.post(URL, json={"name": "Ann"}, headers=idem(key))
        body = await resp.json()
        assert resp.status == 400, key
        assert body["details"][0]["path"] == "Idempotency-Key"
        assert words.lower() in body["msg"].lower()
    ok = await gw.post(URL, json={"name": "Ann"}, headers=idem("x" * 255))
    assert ok.status == 201
    assert len(STORES["mem"].records["Contacts"]) == 1


async def test_reads_ignore_the_header(gateway: Gateway) -> None:
    gw = await gateway()
    for _ in range(2):
        resp = await gw.get(f"/v1/records/mem/Accounts/1?orgId={ORG}", headers=idem("k"))
        assert resp.status == 200 and "Idempotent-Replayed" not in resp.headers


async def test_keys_are_per_consumer(gateway: Gateway) -> None:
    other = "second-app-key-42"
    gw = await gateway(consumers=[{"name": "app", "apiKey": KEY, "orgs": [ORG]},
                                  {"name": "two", "apiKey": other, "orgs": [ORG]}])
    a = await gw.post(URL, json={"name": "Ann"}, headers=idem("shared"))
    b = await gw.post(URL, json={"name": "Ann"},
                      headers=auth(other, **{"Idempotency-Key": "shared"}))
    assert a.status == b.status == 201 and "Idempotent-Replayed" not in b.headers
    assert len(STORES["mem"].records["Contacts"]) == 2


async def test_bulk_call_is_one_idempotent_unit(gateway: Gateway, backend: dict[str, Any]) -> None:
    gw = await gateway(state=backend)
    bulk = {"requests": [
        {"url": "/v1/records/mem/Contacts", "method": "POST", "data": {"name": "A"},
         "headers": {"Idempotency-Key": "entry-key"}},
        {"url": "/v1/records/mem/Contacts", "method": "POST", "data": {"name": "A"},
         "headers": {"Idempotency-Key": "entry-key"}},
    ]}
    first = await gw.post(f"/v1/bulk?orgId={ORG}", json=bulk, headers=idem("bulk-1"))
    again = await gw.post(f"/v1/bulk?orgId={ORG}", json=bulk, headers=idem("bulk-1"))
    assert first.status == again.status == 200
    assert await first.read() == await again.read()
    assert again.headers["Idempotent-Replayed"] == "true"
    # the entries' own keys are ignored: the bulk call's key covers them
    assert [e["status"] for e in await first.json()] == [201, 201]
    assert len(STORES["mem"].records["Contacts"]) == 2


async def test_idempotent_create_on_each_emulator(harness: Harness, gateway: Gateway) -> None:
    gw = await gateway(sources={harness.type: harness.source()})
    url = f"/v1/records/{harness.type}/{harness.roles.entity}?orgId={ORG}"
    data = {**harness.roles.writable, harness.roles.text: "Idempotent Inc"}
    before = len(harness.records())
    first = await gw.post(url, json=data, headers=idem("create-once"))
    again = await gw.post(url, json=data, headers=idem("create-once"))
    assert first.status == 201, await first.text()
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert await first.read() == await again.read()
    made = [r for r in harness.records() if r.get(harness.roles.text) == "Idempotent Inc"]
    assert len(made) == 1 and len(harness.records()) == before + 1
    assert harness.emulator.calls("POST", harness.create_path()) == 1


async def test_repeat_while_running_is_409_with_retry_after(
    harness: Harness, gateway: Gateway
) -> None:
    gw = await gateway(sources={harness.type: harness.source()})
    url = f"/v1/records/{harness.type}/{harness.roles.entity}?orgId={ORG}"
    data = {**harness.roles.writable, harness.roles.text: "Slow Inc"}
    await gw.get(url + "&pageSize=1", headers=auth())  # log in first: only the create is slow
    harness.emulator.faults.latency = 0.4
    first = asyncio.create_task(gw.post(url, json=data, headers=idem("slow")))
    await asyncio.sleep(0.15)
    second = await gw.post(url, json=data, headers=idem("slow"))
    body = await second.json()
    assert second.status == 409 and body["error"] == "conflict"
    assert second.headers["Retry-After"] == "1"
    assert (await first).status == 201
    harness.emulator.faults.latency = 0
    assert (await gw.post(url, json=data, headers=idem("slow"))).headers[
        "Idempotent-Replayed"] == "true"
    assert len([r for r in harness.records() if r.get(harness.roles.text) == "Slow Inc"]) == 1


async def test_lost_answer_is_kept_so_a_retry_never_writes_twice(
    harness: Harness, gateway: Gateway
) -> None:
    gw = await gateway(sources={harness.type: harness.source()})
    url = f"/v1/records/{harness.type}/{harness.roles.entity}?orgId={ORG}"
    data = {**harness.roles.writable, harness.roles.text: "Lost Answer Inc"}
    await gw.get(url + "&pageSize=1", headers=auth())
    harness.emulator.faults.drop(after_processing=True, path=harness.create_path(),
                                 method="POST")
    first = await gw.post(url, json=data, headers=idem("lost"))
    assert first.status >= 500
    again = await gw.post(url, json=data, headers=idem("lost"))
    assert again.status == first.status and again.headers["Idempotent-Replayed"] == "true"
    made = [r for r in harness.records() if r.get(harness.roles.text) == "Lost Answer Inc"]
    assert len(made) == 1


async def test_file_upload_with_key_streams_the_same_bytes(
    harness: Harness, gateway: Gateway
) -> None:
    r = harness.roles
    if r.file_entity is None or r.file_field is None:
        return
    gw = await gateway(sources={harness.type: harness.source()})
    listing = await (await gw.get(f"/v1/records/{harness.type}/{r.file_entity}",
                                  params={"orgId": ORG, "pageSize": "1"}, headers=auth())).json()
    rid = listing["data"][0]["id"]
    url = f"/v1/records/{harness.type}/{r.file_entity}/{rid}/files/{r.file_field}?orgId={ORG}"
    payload = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    headers = idem("upload-1", **{"Content-Type": "image/png"})
    first = await gw.put(url + "&filename=a.png", data=payload, headers=headers)
    assert first.status == 200, await first.text()
    again = await gw.put(url + "&filename=a.png", data=payload, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.read() == await first.read()
    other = await gw.put(url + "&filename=a.png", data=payload + b"!", headers=headers)
    assert other.status == 409
    got = await gw.get(url, headers=auth())
    assert got.status == 200 and await got.read() == payload
