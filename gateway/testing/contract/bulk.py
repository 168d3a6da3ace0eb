"""Kit: /v1/bulk answers as the calls alone would (spec §6), coalesced on the wire.

Coalescing is proved on the emulator's own request log: ten creates are one native batch call
where the harness says the backend batches creates (Sugar ``/bulk``, Data Service
``insert-batch``), ten deletes one call where it batches deletes (Slingr deletes by a
comma-separated id list); else one call per entry.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config.load import load_config_text
from gateway.http.app import create_app
from gateway.testing.client import AUTH, ORG, gateway_config_text
from gateway.testing.equivalence import Op, Target, ops_strategy, run_both
from gateway.testing.harness import Harness, emulator

__all__ = [
    "test_a_lost_batch_answer_is_502_for_each_entry_and_never_resent",
    "test_a_read_between_writes_ends_the_run_and_sees_them",
    "test_bulk_equals_one_by_one_on_the_emulators",
    "test_fail_on_first_applies_nothing_after_the_first_failure",
    "test_reads_keep_request_order",
    "test_refused_and_failed_entries_answer_as_alone_and_the_batch_goes_on",
    "test_ten_creates_are_one_native_batch_and_answer_as_alone",
    "test_ten_deletes_are_one_native_batch_and_the_records_are_gone",
]

Client = TestClient[Any, Any]
RID = "bulk-contract-rid"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Backend calls that are not record writes: logins, metadata, queries and counts.
NOT_WRITES = ("/oauth2/token", "/auth/login", "/connect/token", "/query", "/filter", "/count")


def write_calls(h: Harness, since: int = 0) -> list[Any]:
    """The record writes the backend received since log entry ``since``."""
    return [c for c in list(emulator(h).log)[since:]
            if c.method in WRITES and not c.path.endswith(NOT_WRITES)]


async def bulk(gw: Client, requests: list[dict[str, Any]], **extra: Any) -> list[Any]:
    resp = await gw.post("/v1/bulk", params={"orgId": ORG},
                         headers={**AUTH, "X-Request-Id": RID},
                         json={"requests": requests, **extra})
    got = await resp.json()
    assert resp.status == 200, got
    return got  # type: ignore[no-any-return]


async def alone(gw: Client, method: str, url: str, data: Any = None) -> tuple[int, Any]:
    resp = await gw.request(method, url, params={"orgId": ORG}, json=data,
                            headers={**AUTH, "X-Request-Id": RID})
    return resp.status, await resp.json()


def base(h: Harness) -> str:
    return f"/v1/records/{h.type}/{h.roles.entity}"


def creates(h: Harness, n: int, tag: str = "Bulk") -> list[dict[str, Any]]:
    return [{"url": base(h), "method": "POST",
             "data": {**h.roles.writable, h.roles.text: f"{tag} {i}"}} for i in range(n)]


async def test_ten_creates_are_one_native_batch_and_answer_as_alone(
    harness: Harness, gw: Client
) -> None:
    await alone(gw, "GET", base(harness), None)  # logged in, metadata known
    mark = len(emulator(harness).log)
    got = await bulk(gw, creates(harness, 10))
    assert [e["status"] for e in got] == [201] * 10
    calls = write_calls(harness, mark)
    assert len(calls) == (1 if harness.batches_creates else 10), calls
    for i, entry in enumerate(got):
        record = entry["contents"]["data"]
        assert record[harness.roles.text] == f"Bulk {i}"
        status, stored = await alone(gw, "GET", f"{base(harness)}/{record['id']}")
        assert status == 200 and stored["data"][harness.roles.text] == f"Bulk {i}"
        assert set(entry["contents"]) == {"data", "code", "msg"}


async def test_ten_deletes_are_one_native_batch_and_the_records_are_gone(
    harness: Harness, gw: Client
) -> None:
    made = await bulk(gw, creates(harness, 10, "Doomed"))
    ids = [e["contents"]["data"]["id"] for e in made]
    mark = len(emulator(harness).log)
    got = await bulk(gw, [{"url": f"{base(harness)}/{i}", "method": "DELETE"} for i in ids])
    assert [e["status"] for e in got] == [200] * 10
    assert [e["contents"] for e in got] == [{"data": {"id": i}, "code": 0, "msg": "OK"}
                                            for i in ids]
    assert len(write_calls(harness, mark)) == (1 if harness.batches_deletes else 10)
    remaining = {r["id"] for r in harness.records()}
    assert not remaining & set(ids)


async def test_refused_and_failed_entries_answer_as_alone_and_the_batch_goes_on(
    harness: Harness, gw: Client
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
    harness: Harness, gw: Client
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
    harness: Harness, gw: Client
) -> None:
    await alone(gw, "GET", base(harness), None)
    mark = len(emulator(harness).log)
    got = await bulk(gw, [
        *creates(harness, 2, "Seen"),
        {"url": f"{base(harness)}/query", "method": "POST",
         "data": {"filter": [[{"field": harness.roles.text, "operator": "startsWith",
                               "value": "Seen"}]]}},
        *creates(harness, 2, "After"),
    ])
    assert [e["status"] for e in got] == [201, 201, 200, 201, 201]
    assert got[2]["contents"]["pagination"]["totalSize"] == 2
    assert len(write_calls(harness, mark)) == (2 if harness.batches_creates else 4)


async def test_a_lost_batch_answer_is_502_for_each_entry_and_never_resent(
    harness: Harness, gw: Client
) -> None:
    made = await bulk(gw, creates(harness, 3, "Lost"))
    ids = [e["contents"]["data"]["id"] for e in made]
    mark = len(emulator(harness).log)
    emulator(harness).faults.drop(times=5, after_processing=True)
    got = await bulk(gw, [{"url": f"{base(harness)}/{i}", "method": "DELETE"} for i in ids])
    emulator(harness).faults.clear()
    assert [e["status"] for e in got] == [502] * 3, got
    assert {e["contents"]["error"] for e in got} == {"backend_error"}
    # each call sent once, never resent
    assert len(write_calls(harness, mark)) == (1 if harness.batches_deletes else 3)


async def test_reads_keep_request_order(harness: Harness, gw: Client) -> None:
    ids = [r["id"] for r in harness.records()[:6]]
    got = await bulk(gw, [{"url": f"{base(harness)}/{i}"} for i in [*ids, *reversed(ids)]])
    assert [e["contents"]["data"]["id"] for e in got] == [*ids, *reversed(ids)]


# -- the equivalence property on a real emulator ------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=ops_strategy(3, max_size=10), fail_on_first=st.booleans())
def test_bulk_equals_one_by_one_on_the_emulators(
    harness_class: type[Harness], ops: list[Op], fail_on_first: bool
) -> None:
    # harness_class is a class, the same for every example: nothing leaks between them.
    asyncio.run(_equivalence(harness_class, ops, fail_on_first))


async def _serve(app: Any) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    return server


async def _equivalence(kind: type[Harness], ops: list[Op], fail_on_first: bool) -> None:
    a, b = kind(), kind()
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
        volatile = {"id", *h.volatile_fields}
        rows = [{k: v for k, v in r.items() if k not in volatile} for r in h.records()]
        return sorted(repr(sorted(r.items())) for r in rows)

    async with TestClient(TestServer(create_app(config, configure_logs=False))) as client:
        await run_both(client, ops, fail_on_first, target, org=ORG, key="test-key",
                       records=records)
