"""Spec §6 on every source: /v1/bulk answers as the calls alone, coalesced on the wire.

Coalescing is proved on the emulator's own request log: ten creates are one native batch call
where the backend has one (Sugar ``/bulk``, Data Service ``insert-batch``), ten deletes one call
on all three (Slingr deletes by a comma-separated id list).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config.load import load_config_text
from gateway.http.app import create_app
from tests.conftest import gateway_config_text
from tests.contract.backends import HARNESSES, Harness
from tests.contract.conftest import AUTH, ORG
from tests.unit.bulk.equivalence import Op, Target, ops_strategy, run_both

RID = "bulk-contract-rid"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Backend calls that are not record writes: logins, metadata, queries and counts.
NOT_WRITES = ("/oauth2/token", "/auth/login", "/connect/token", "/query", "/filter", "/count")
# The backends that batch creates (Slingr has no batch create: its creates go one by one).
BATCHES_CREATES = {"sugarcrm": True, "dataservice": True, "slingr": False}


def write_calls(h: Harness, since: int = 0) -> list[Any]:
    return [c for c in list(h.emulator.log)[since:]
            if c.method in WRITES and not c.path.endswith(NOT_WRITES)]


async def bulk(gw: TestClient, requests: list[dict[str, Any]], **extra: Any) -> list[Any]:
    resp = await gw.post("/v1/bulk", params={"orgId": ORG},
                         headers={**AUTH, "X-Request-Id": RID},
                         json={"requests": requests, **extra})
    got = await resp.json()
    assert resp.status == 200, got
    return got  # type: ignore[no-any-return]


async def alone(gw: TestClient, method: str, url: str, data: Any = None) -> tuple[int, Any]:
    resp = await gw.request(method, url, params={"orgId": ORG}, json=data,
                            headers={**AUTH, "X-Request-Id": RID})
    return resp.status, await resp.json()


def base(h: Harness) -> str:
    return f"/v1/records/{h.type}/{h.roles.entity}"


def creates(h: Harness, n: int, tag: str = "Bulk") -> list[dict[str, Any]]:
    return [{"url": base(h), "method": "POST",
             "data": {**h.roles.writable, h.roles.text: f"{tag} {i}"}} for i in range(n)]


async def test_ten_creates_are_one_native_batch_and_answer_as_alone(
    harness: Harness, gw: TestClient
) -> None:
    await alone(gw, "GET", base(harness), None)  # logged in, metadata known
    mark = len(harness.emulator.log)
    got = await bulk(gw, creates(harness, 10))
    assert [e["status"] for e in got] == [201] * 10
    calls = write_calls(harness, mark)
    assert len(calls) == (1 if BATCHES_CREATES[harness.type] else 10), calls
    for i, entry in enumerate(got):
        record = entry["contents"]["data"]
        assert record[harness.roles.text] == f"Bulk {i}"
        status, stored = await alone(gw, "GET", f"{base(harness)}/{record['id']}")
        assert status == 200 and stored["data"][harness.roles.text] == f"Bulk {i}"
        assert set(entry["contents"]) == {"data", "code", "msg"}


async def test_ten_deletes_are_one_native_batch_and_the_records_are_gone(
    harness: Harness, gw: TestClient
) -> None:
    made = await bulk(gw, creates(harness, 10, "Doomed"))
    ids = [e["contents"]["data"]["id"] for e in made]
    mark = len(harness.emulator.log)
    got = await bulk(gw, [{"url": f"{base(harness)}/{i}", "method": "DELETE"} for i in ids])
    assert [e["status"] for e in got] == [200] * 10
    assert [e["contents"] for e in got] == [{"data": {"id": i}, "code": 0, "msg": "OK"}
                                            for i in ids]
    assert len(write_calls(harness, mark)) == 1
    remaining = {r["id"] for r in harness.records()}
    assert not remaining & set(ids)


async def test_refused_and_failed_entries_answer_as_alone_and_the_batch_goes_on(
    harness: Harness, gw: TestClient
) -> None:
    missing = harness.missing_id
    entries = [
        *creates(harness, 1),
        {"url": base(harness), "method": "POST", "data": harness.roles.invalid},
        {"url": f"{base(harness)}/{missing}", "method": "DELETE"},
        *creates(harness, 1),
        {"url": f"{base(harness)}/../{harness.roles.entity}"},
        {"url": f"/records/{harness.type}/{harness.roles.entity}/{missing}"},
    ]
    got = await bulk(gw, entries)
    assert [e["status"] for e in got] == [201, 400, 404, 201, 400, 404]
    for entry, (method, url, data) in [
        (got[1], ("POST", base(harness), harness.roles.invalid)),
        (got[2], ("DELETE", f"{base(harness)}/{missing}", None)),
        (got[5], ("GET", f"{base(harness)}/{missing}", None)),
    ]:
        status, body = await alone(gw, method, url, data)
        assert (entry["status"], entry["contents"]["error"]) == (status, body["error"])
        assert entry["contents"]["requestId"] == body["requestId"] == RID
        assert entry["contents"].get("source") == body.get("source")
    assert got[4]["contents"]["details"][0]["path"] == "requests[4].url"


async def test_fail_on_first_applies_nothing_after_the_first_failure(
    harness: Harness, gw: TestClient
) -> None:
    before = len(harness.records())
    got = await bulk(gw, [
        *creates(harness, 1, "First"),
        {"url": base(harness), "method": "POST", "data": harness.roles.invalid},
        *creates(harness, 2, "Never"),
    ], failOnFirst=True)
    assert [e["status"] for e in got] == [201, 400, 424, 424]
    assert got[2]["contents"]["error"] == "not_executed"
    texts = [r.get(harness.roles.text) for r in harness.records()]
    assert len(texts) == before + 1 and "First 0" in texts
    assert not any(str(t).startswith("Never") for t in texts)


async def test_a_read_between_writes_ends_the_run_and_sees_them(
    harness: Harness, gw: TestClient
) -> None:
    await alone(gw, "GET", base(harness), None)
    mark = len(harness.emulator.log)
    got = await bulk(gw, [
        *creates(harness, 2, "Seen"),
        {"url": f"{base(harness)}/query", "method": "POST",
         "data": {"filter": [[{"field": harness.roles.text, "operator": "startsWith",
                               "value": "Seen"}]]}},
        *creates(harness, 2, "After"),
    ])
    assert [e["status"] for e in got] == [201, 201, 200, 201, 201]
    assert got[2]["contents"]["pagination"]["totalSize"] == 2
    assert len(write_calls(harness, mark)) == (2 if BATCHES_CREATES[harness.type] else 4)


async def test_a_lost_batch_answer_is_502_for_each_entry_and_never_resent(
    harness: Harness, gw: TestClient
) -> None:
    made = await bulk(gw, creates(harness, 3, "Lost"))
    ids = [e["contents"]["data"]["id"] for e in made]
    mark = len(harness.emulator.log)
    harness.emulator.faults.drop(times=5, after_processing=True)
    got = await bulk(gw, [{"url": f"{base(harness)}/{i}", "method": "DELETE"} for i in ids])
    harness.emulator.faults.clear()
    assert [e["status"] for e in got] == [502] * 3, got
    assert {e["contents"]["error"] for e in got} == {"backend_error"}
    assert len(write_calls(harness, mark)) == 1  # sent once, not resent


async def test_reads_keep_request_order(harness: Harness, gw: TestClient) -> None:
    ids = [r["id"] for r in harness.records()[:6]]
    got = await bulk(gw, [{"url": f"{base(harness)}/{i}"} for i in [*ids, *reversed(ids)]])
    assert [e["contents"]["data"]["id"] for e in got] == [*ids, *reversed(ids)]


# -- the equivalence property on a real emulator ------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops_strategy(3, max_size=10), fail_on_first=st.booleans(),
       kind=st.sampled_from(sorted(HARNESSES)))
def test_bulk_equals_one_by_one_on_the_emulators(
    ops: list[Op], fail_on_first: bool, kind: str
) -> None:
    asyncio.run(_equivalence(kind, ops, fail_on_first))


async def _serve(app: Any) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    return server


VOLATILE = {"id", "date_modified", "date_entered", "UpdateTime", "CreateTime", "lastUpdate",
            "modified_user_id", "version"}


async def _equivalence(kind: str, ops: list[Op], fail_on_first: bool) -> None:
    a, b = HARNESSES[kind](), HARNESSES[kind]()
    await a.start(_serve)
    await b.start(_serve)
    text = a.roles.text
    ids = [r["id"] for r in sorted(a.records(), key=lambda r: str(r["id"]))[:3]]
    assert ids == [r["id"] for r in sorted(b.records(), key=lambda r: str(r["id"]))[:3]]
    target = Target(a.roles.entity, ids, dict(a.roles.writable), dict(a.roles.invalid), text)
    config = load_config_text(gateway_config_text({"a": a.source(), "b": b.source()}),
                              "test.yaml", env={})

    def records(name: str) -> list[str]:
        h = a if name == "a" else b
        rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in h.records()]
        return sorted(repr(sorted(r.items())) for r in rows)

    async with TestClient(TestServer(create_app(config, configure_logs=False))) as client:
        await run_both(client, ops, fail_on_first, target, org=ORG, key="test-key",
                       records=records)
