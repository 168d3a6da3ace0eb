"""POST /v1/bulk over HTTP on the memory connector, with a batching variant for coalescing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gateway.config.model as config_model
import gateway.registry as registry
from gateway.connector import BatchOp, BatchOutcome, Capabilities, Record
from gateway.errors import BackendFailure, GatewayError
from gateway.http.app import create_app
from gateway.registry import ConnectorType
from gateway.upstream.context import record_call
from tests.integration.http.conftest import APP_KEY, NARROW_KEY, auth, make_config
from tests.integration.http.memory import MemoryConnector, MemorySource
from tests.unit.bulk.equivalence import Op, Target, ops_strategy, run_both

Q = "?orgId=acme"
BULK = "/v1/bulk" + Q
RID = "bulk-test-rid-1"


class BatchingMemory(MemoryConnector):
    """The memory connector with a native batch: every write_batch call is logged."""

    caps = Capabilities(
        operators=frozenset(), or_groups=False, sort=False, multi_sort=False, max_page=50,
        counts=False, native_batch=True, batch_limit=3,
        batch_actions=frozenset({"create", "update", "delete"}), batch_fail_on_first=True,
    )
    calls: list[tuple[str, list[str], bool]] = []
    singles: list[str] = []
    fail_whole: Exception | None = None
    get_delay = 0.0
    in_flight = 0
    most_in_flight = 0

    @property  # type: ignore[override]
    def capabilities(self) -> Capabilities:  # read live, so a test can change them
        return type(self).caps

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        cls = type(self)
        cls.in_flight += 1
        cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        try:
            await asyncio.sleep(cls.get_delay)
            return await super().get(entity, record_id, fields)
        finally:
            cls.in_flight -= 1

    async def create(self, entity: str, data: Record) -> Record:
        type(self).singles.append("create")
        return await super().create(entity, data)

    async def update(self, entity: str, record_id: str, data: Record,
                     version: str | None) -> Record:
        type(self).singles.append("update")
        return await super().update(entity, record_id, data, version)

    async def delete(self, entity: str, record_id: str) -> None:
        type(self).singles.append("delete")
        await super().delete(entity, record_id)

    async def write_batch(self, entity: str, ops: Sequence[BatchOp], *,
                          fail_on_first: bool = False) -> list[BatchOutcome]:
        cls = type(self)
        cls.calls.append((entity, [op.action for op in ops], fail_on_first))
        record_call(0.001)
        if cls.fail_whole is not None:
            raise cls.fail_whole
        out: list[BatchOutcome] = []
        failed = False
        for op in ops:
            if failed:
                out.append(BatchOutcome(executed=False))
                continue
            try:
                if op.action == "create":
                    rec: Record | None = await MemoryConnector.create(self, entity, op.data or {})
                elif op.action == "update":
                    assert op.record_id is not None
                    rec = await MemoryConnector.update(self, entity, op.record_id, op.data or {},
                                                       op.version)
                else:
                    assert op.record_id is not None
                    await MemoryConnector.delete(self, entity, op.record_id)
                    rec = {"id": op.record_id}
                out.append(BatchOutcome(record=rec))
            except GatewayError as exc:
                out.append(BatchOutcome(error=exc))
                failed = fail_on_first
        return out


@pytest.fixture(autouse=True)
def batching(monkeypatch: pytest.MonkeyPatch, memory_type: None) -> type[BatchingMemory]:
    kind = ConnectorType("memory", MemorySource, lambda n, c, s, x: BatchingMemory(n, c, x))
    types = MappingProxyType({"memory": kind})
    monkeypatch.setattr(registry, "connector_types", lambda: types)
    monkeypatch.setattr(config_model, "connector_types", lambda: types)
    BatchingMemory.calls = []
    BatchingMemory.singles = []
    BatchingMemory.fail_whole = None
    BatchingMemory.get_delay = 0.0
    BatchingMemory.in_flight = BatchingMemory.most_in_flight = 0
    monkeypatch.setattr(BatchingMemory, "caps", BatchingMemory.caps)
    return BatchingMemory


def caps(**changes: Any) -> None:
    import dataclasses
    BatchingMemory.caps = dataclasses.replace(BatchingMemory.caps, **changes)


async def bulk(client: Any, requests: list[dict[str, Any]], *, status: int = 200,
               headers: dict[str, str] | None = None, query: str = Q,
               **extra: Any) -> Any:
    resp = await client.post("/v1/bulk" + query, json={"requests": requests, **extra},
                             headers={**auth(), "X-Request-Id": RID, **(headers or {})})
    got = await resp.json()
    assert resp.status == status, got
    return got


async def alone(client: Any, method: str, url: str, data: Any = None) -> tuple[int, Any]:
    resp = await client.request(method, url, json=data,
                                headers={**auth(), "X-Request-Id": RID})
    return resp.status, await resp.json()


def statuses(got: list[dict[str, Any]]) -> list[int]:
    return [e["status"] for e in got]


# -- shape, answers, refusals ----------------------------------------------------------------


async def test_spec_example_answers_each_entry_as_its_call_alone(client: Any) -> None:
    got = await bulk(client, [
        {"url": "/v1/records/mem/Accounts", "method": "POST", "data": '{"name": "test123"}'},
        {"url": "/v1/records/mem/Accounts/query", "method": "POST", "data": {"pageSize": 2}},
        {"url": "/v1/records/mem/Accounts/3", "method": "GET"},
        {"url": "/records/mem/Accounts/3"},  # no /v1 prefix, method defaults to GET
    ])
    assert statuses(got) == [201, 200, 200, 200]
    assert got[0]["contents"]["data"]["name"] == "test123"
    new_id = got[0]["contents"]["data"]["id"]
    for entry, (method, url, data) in zip(got[1:], [
        ("POST", "/v1/records/mem/Accounts/query" + Q, {"pageSize": 2}),
        ("GET", "/v1/records/mem/Accounts/3" + Q, None),
        ("GET", "/v1/records/mem/Accounts/3" + Q, None),
    ], strict=True):
        assert (entry["status"], entry["contents"]) == await alone(client, method, url, data)
        assert entry["headers"]["Content-Type"].startswith("application/json")
        assert entry["headers"]["X-Request-Id"] == RID
    assert (await alone(client, "GET", f"/v1/records/mem/Accounts/{new_id}{Q}"))[0] == 200


async def test_error_entries_equal_the_error_answer_alone(client: Any) -> None:
    cases = [("GET", "/v1/records/mem/Accounts/999", None),
             ("GET", "/v1/records/nosuch/Accounts", None),
             ("POST", "/v1/records/mem/Accounts/query", {"filter": [[{"field": "name"}]]}),
             ("POST", "/v1/records/mem/Accounts", {"colour": "red"}),
             ("DELETE", "/v1/records/mem/Accounts/query", None),
             ("GET", "/v1/nothing/here", None)]
    got = await bulk(client, [{"url": u, "method": m, "data": d} for m, u, d in cases],
                     query=Q + "&locale=ja-JP")
    for entry, (method, url, data) in zip(got, cases, strict=True):
        status, body = await alone(client, method, url + Q + "&locale=ja-JP", data)
        assert entry["status"] == status >= 400
        assert entry["contents"] == body  # same envelope, same requestId, same locale
        assert body["requestId"] == RID


@pytest.mark.parametrize(("entry", "path", "key"), [
    ({"url": "http://evil.example/v1/records/mem/Accounts"}, "url", "bad_bulk_url"),
    ({"url": "//evil.example/v1/records/mem/Accounts"}, "url", "bad_bulk_url"),
    ({"url": "/v1/records/mem/../mem/Accounts"}, "url", "bad_bulk_url"),
    ({"url": "/v1/records/mem/%2e%2e/Accounts"}, "url", "bad_bulk_url"),
    ({"url": "/v1/records/mem/%252E%252E/Accounts"}, "url", "bad_bulk_url"),
    ({"url": "/v1/records/mem%2fAccounts/1"}, "url", "bad_bulk_url"),
    ({"url": "/v1/records\\mem/Accounts"}, "url", "bad_bulk_url"),
    ({"url": "/v1/bulk", "method": "POST", "data": {"requests": []}}, "url", "bulk_recursive"),
    ({"url": "/bulk", "method": "POST", "data": {"requests": []}}, "url", "bulk_recursive"),
    ({"url": "/v1/records/mem/Accounts/1", "method": "FETCH"}, "method", "bad_bulk_method"),
    ({"url": "/v1/records/mem/Accounts", "method": "POST", "data": "{nope"}, "data",
     "bad_bulk_data"),
    ({"url": "/v1/records/mem/Accounts/1?orgId=globex"}, "url", "bulk_org_switch"),
    ({"url": "/v1/records/mem/Accounts/1", "headers": {"Authorization": "Bearer other"}},
     "headers", "bulk_identity_switch"),
    ({"url": "/v1/records/mem/Accounts/1/files/logo"}, "url", "bulk_files_unsupported"),
    ({"url": "/v1/records/mem/Accounts/export"}, "url", "bulk_export_unsupported"),
])
async def test_refused_entries_are_400_and_the_batch_goes_on(
    client: Any, entry: dict[str, Any], path: str, key: str
) -> None:
    got = await bulk(client, [entry, {"url": "/v1/records/mem/Accounts/1"}])
    assert statuses(got) == [400, 200]
    body = got[0]["contents"]
    assert body["error"] == "invalid_request" and body["requestId"] == RID
    assert body["details"][0]["path"] == f"requests[0].{path}"
    assert store_unchanged()


def store_unchanged() -> bool:
    from tests.integration.http.memory import STORES
    return set(STORES["mem"].records["Accounts"]) == {"1", "2", "3", "4", "5"}


async def test_same_org_and_same_key_in_an_entry_are_accepted(client: Any) -> None:
    got = await bulk(client, [{"url": "/v1/records/mem/Accounts/1?orgId=acme",
                               "headers": {"Authorization": auth()["Authorization"]}},
                              {"url": "/v1/records/mem/Accounts/1", "headers": ["X-Foo: 1"]}])
    assert statuses(got) == [200, 200]


async def test_entry_checks_the_consumer_as_alone(client: Any) -> None:
    got = await bulk(client, [{"url": "/v1/records/mem/Accounts/1"},
                              {"url": "/v1/records/other/Things"}],
                     headers={"Authorization": f"Bearer {NARROW_KEY}"})
    assert statuses(got) == [403, 200]
    assert got[0]["contents"]["error"] == "forbidden"


async def test_body_of_the_wrong_shape_is_400_with_paths(client: Any) -> None:
    resp = await client.post(BULK, headers=auth(), json={
        "requests": [{"url": "/x"}, {"method": "GET"}, {"url": 5, "method": 7}, "nope",
                     {"url": "/x", "extra": 1, "headers": {"A": 1}}],
        "failOnFirst": "yes", "other": 1})
    got = await resp.json()
    assert resp.status == 400 and got["error"] == "invalid_request"
    assert {d["path"] for d in got["details"]} == {
        "other", "failOnFirst", "requests[1].url", "requests[2].url", "requests[2].method",
        "requests[3]", "requests[4].extra", "requests[4].headers.A"}
    for body in ({"requests": "x"}, {}, [1]):
        resp = await client.post(BULK, headers=auth(), json=body)
        assert resp.status == 400


async def test_more_entries_than_the_limit_is_413_for_the_whole_call(
    aiohttp_client: Any,
) -> None:
    client = await aiohttp_client(create_app(make_config(maxBulkRequests=3),
                                             configure_logs=False))
    got = await bulk(client, [{"url": "/v1/records/mem/Accounts/1"}] * 4, status=413)
    assert got["error"] == "payload_too_large"
    assert statuses(await bulk(client, [{"url": "/v1/records/mem/Accounts/1"}] * 3)) == [200] * 3


async def test_bulk_itself_needs_key_and_org(client: Any) -> None:
    resp = await client.post("/v1/bulk", json={"requests": []}, headers=auth())
    assert resp.status == 400
    resp = await client.post(BULK, json={"requests": []})
    assert resp.status == 401
    assert await bulk(client, []) == []


# -- order and failOnFirst --------------------------------------------------------------------


async def test_entries_see_the_effects_of_earlier_ones(client: Any) -> None:
    caps(native_batch=False, batch_actions=frozenset())
    got = await bulk(client, [
        {"url": "/v1/records/mem/Accounts/1", "method": "PATCH", "data": {"name": "Renamed"}},
        {"url": "/v1/records/mem/Accounts/1"},
        {"url": "/v1/records/mem/Accounts/2", "method": "DELETE"},
        {"url": "/v1/records/mem/Accounts/2"},
        {"url": "/v1/records/mem/Accounts/2", "method": "DELETE"},
    ])
    assert statuses(got) == [200, 200, 200, 404, 404]
    assert got[1]["contents"]["data"]["name"] == "Renamed"
    assert got[2]["contents"] == {"data": {"id": "2"}, "code": 0, "msg": "OK"}


async def test_fail_on_first_stops_and_answers_424_for_the_rest(client: Any) -> None:
    caps(native_batch=False, batch_actions=frozenset())
    got = await bulk(client, [
        {"url": "/v1/records/mem/Accounts/1"},
        {"url": "/v1/records/mem/Accounts/999"},
        {"url": "/v1/records/mem/Accounts", "method": "POST", "data": {"name": "Never"}},
        {"url": "http://bad"},
    ], failOnFirst=True)
    assert statuses(got) == [200, 404, 424, 424]
    assert got[2]["contents"]["error"] == "not_executed"
    assert got[2]["contents"]["code"] == 424 and got[2]["contents"]["requestId"] == RID
    assert BatchingMemory.singles == []  # the create never ran
    got = await bulk(client, [{"url": "/v1/records/mem/Accounts/999"},
                              {"url": "/v1/records/mem/Accounts/1"}])
    assert statuses(got) == [404, 200]  # without failOnFirst the batch goes on


# -- coalescing ---------------------------------------------------------------------------------


def creates(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"url": "/v1/records/mem/Accounts", "method": "POST",
             "data": {"name": f"New {i}", **extra}} for i in range(n)]


async def test_consecutive_creates_go_as_native_batches_in_chunks(client: Any) -> None:
    got = await bulk(client, creates(7))
    assert statuses(got) == [201] * 7
    assert [e["contents"]["data"]["name"] for e in got] == [f"New {i}" for i in range(7)]
    assert BatchingMemory.calls == [("Accounts", ["create"] * 3, False),
                                    ("Accounts", ["create"] * 3, False),
                                    ("Accounts", ["create"], False)]
    assert BatchingMemory.singles == []
    for entry in got:  # stored, and answered as the single create answers
        rid = entry["contents"]["data"]["id"]
        status, body = await alone(client, "GET", f"/v1/records/mem/Accounts/{rid}{Q}")
        assert status == 200 and body["data"]["name"] == entry["contents"]["data"]["name"]
        assert set(entry["contents"]) == {"data", "code", "msg"}


async def test_mixed_writes_coalesce_and_a_read_ends_the_run(client: Any) -> None:
    got = await bulk(client, [
        *creates(1),
        {"url": "/v1/records/mem/Accounts/1", "method": "PUT", "data": {"name": "P"}},
        {"url": "/v1/records/mem/Accounts/2", "method": "DELETE"},
        {"url": "/v1/records/mem/Accounts/2"},
        {"url": "/v1/records/mem/Accounts/3", "method": "DELETE"},
        {"url": "/v1/records/mem/Accounts/4", "method": "DELETE"},
    ])
    assert statuses(got) == [201, 200, 200, 404, 200, 200]
    assert got[1]["contents"]["data"]["name"] == "P"
    assert got[2]["contents"]["data"] == {"id": "2"}
    assert [c[1] for c in BatchingMemory.calls] == [["create", "update", "delete"],
                                                    ["delete", "delete"]]


async def test_a_bad_body_in_a_run_fails_alone(client: Any) -> None:
    got = await bulk(client, [*creates(1), {"url": "/v1/records/mem/Accounts", "method": "POST",
                                            "data": {"colour": "red"}}, *creates(1),
                              {"url": "/v1/records/mem/Accounts/1", "method": "PATCH",
                               "data": {"id": "2"}}])
    assert statuses(got) == [201, 400, 201, 400]
    assert got[1]["contents"]["details"][0]["path"] == "colour"
    assert got[3]["contents"]["details"][0]["path"] == "id"
    assert BatchingMemory.calls == [("Accounts", ["create", "create"], False)]


async def test_op_failures_map_to_their_entries(client: Any) -> None:
    got = await bulk(client, [
        {"url": "/v1/records/mem/Accounts/1", "method": "PATCH", "data": {"name": "A"}},
        {"url": "/v1/records/mem/Accounts/999", "method": "DELETE"},
        {"url": "/v1/records/mem/Accounts/2", "method": "PATCH", "data": {"name": "B"},
         "headers": {"If-Match": "7"}},
        {"url": "/v1/records/mem/Accounts/3", "method": "DELETE"},
    ])
    assert statuses(got) == [200, 404, 409, 200]
    _, alone404 = await alone(client, "DELETE", "/v1/records/mem/Accounts/999" + Q)
    assert got[1]["contents"] == alone404


async def test_fail_on_first_batches_only_where_the_backend_can_stop(client: Any) -> None:
    entries = [
        {"url": "/v1/records/mem/Accounts/1", "method": "PATCH", "data": {"name": "A"}},
        {"url": "/v1/records/mem/Accounts/999", "method": "PATCH", "data": {"name": "X"}},
        {"url": "/v1/records/mem/Accounts/2", "method": "DELETE"},
        {"url": "/v1/records/mem/Accounts/3", "method": "DELETE"},
    ]
    got = await bulk(client, entries, failOnFirst=True)
    assert statuses(got) == [200, 404, 424, 424]
    assert got[2]["contents"]["error"] == "not_executed"
    assert BatchingMemory.calls == [("Accounts", ["update", "update", "delete"], True)]
    assert store_unchanged()
    caps(batch_fail_on_first=False)
    BatchingMemory.calls.clear()
    got = await bulk(client, entries, failOnFirst=True)
    assert statuses(got) == [200, 404, 424, 424]
    assert BatchingMemory.calls == [] and BatchingMemory.singles == ["update", "update"]


async def test_fail_on_first_after_a_bad_body_sends_only_the_ops_before(client: Any) -> None:
    got = await bulk(client, [*creates(2), {"url": "/v1/records/mem/Accounts", "method": "POST",
                                            "data": "[1]"}, *creates(2)], failOnFirst=True)
    assert statuses(got) == [201, 201, 400, 424, 424]
    assert BatchingMemory.calls == [("Accounts", ["create", "create"], True)]


async def test_a_whole_chunk_failing_is_each_entrys_failure_never_resent(client: Any) -> None:
    BatchingMemory.fail_whole = BackendFailure(
        "backend_error_said", {"source": "mem", "text": "the answer was lost"}, sent=None)
    got = await bulk(client, creates(4))
    assert statuses(got) == [502] * 4
    assert {e["contents"]["error"] for e in got} == {"backend_error"}
    assert len(BatchingMemory.calls) == 2 and BatchingMemory.singles == []  # 2 chunks, once each


async def test_a_connector_bug_in_a_batch_is_500_per_entry(client: Any) -> None:
    BatchingMemory.fail_whole = RuntimeError("bug")
    got = await bulk(client, creates(2))
    assert statuses(got) == [500, 500]
    assert got[0]["contents"]["error"] == "internal_error" and "bug" not in str(got)


# -- reads, observability, docs ---------------------------------------------------------------


async def test_reads_run_concurrently_bounded_and_answer_in_order(client: Any) -> None:
    BatchingMemory.get_delay = 0.02
    ids = ["5", "1", "4", "2", "3", "999", "1", "2", "3", "4"]
    got = await bulk(client, [{"url": f"/v1/records/mem/Accounts/{i}"} for i in ids])
    assert statuses(got) == [404 if i == "999" else 200 for i in ids]
    assert [e["contents"].get("data", {}).get("id") for e in got] == [
        None if i == "999" else i for i in ids]
    assert BatchingMemory.most_in_flight == 4


async def test_access_line_carries_entries_chunks_and_backend_calls(client: Any) -> None:
    with structlog.testing.capture_logs() as logs:
        await bulk(client, [*creates(4), {"url": "/v1/records/mem/Accounts/1"}])
    line = next(e for e in logs if e.get("event") == "request")
    assert line["bulk_entries"] == 5 and line["bulk_chunks"] == 2
    assert line["backend_calls"] >= 3 and line["status"] == 200
    assert "error" not in line  # entries' errors are theirs, not the bulk call's


async def test_openapi_documents_the_bulk_route(client: Any) -> None:
    doc = await (await client.get("/openapi.json")).json()
    op = doc["paths"]["/v1/bulk"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("BulkBody")
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "BulkResults")
    assert "BulkResult" in doc["components"]["schemas"]


async def test_real_http_client_sees_a_plain_json_array(client: Any) -> None:
    async with aiohttp.ClientSession() as session:
        url = client.make_url(BULK)
        async with session.post(url, json={"requests": [{"url": "/records/mem/Accounts/1"}]},
                                headers=auth()) as resp:
            assert resp.status == 200
            assert isinstance(await resp.json(), list)


# -- equivalence property -------------------------------------------------------------------


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops_strategy(3, max_size=12), fail_on_first=st.booleans(), limit=st.integers(1, 4))
def test_bulk_equals_the_same_entries_one_by_one(
    batching: type[BatchingMemory], ops: list[Op], fail_on_first: bool, limit: int
) -> None:
    from tests.integration.http.conftest import ACCOUNTS
    from tests.integration.http.memory import STORES, MemoryStore

    caps(batch_limit=limit)
    for name in ("mem", "other"):
        STORES[name] = MemoryStore(records={"Accounts": {k: dict(v) for k, v in ACCOUNTS.items()}})
    target = Target("Accounts", ["1", "2", "3"], {"industry": "Energy"}, {"colour": "red"}, "name")
    names = {"a": "mem", "b": "other"}

    def records(source: str) -> list[dict[str, Any]]:
        rows = STORES[names[source]].records["Accounts"]
        return [rows[k] for k in sorted(rows)]

    async def scenario() -> None:
        app = create_app(make_config(), configure_logs=False)
        async with TestClient(TestServer(app)) as client:
            fixed = _Renamed(client, {"/v1/records/a/": "/v1/records/mem/",
                                      "/v1/records/b/": "/v1/records/other/"})
            await run_both(fixed, ops, fail_on_first, target, org="acme", key=APP_KEY,
                           records=records)

    asyncio.run(scenario())


class _Renamed:
    """The property names its sources a and b; here they are mem and other."""

    def __init__(self, client: TestClient, names: dict[str, str]) -> None:
        self._client = client
        self._names = names

    def _fix(self, value: Any) -> Any:
        if isinstance(value, str):
            for old, new in self._names.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, dict):
            return {k: self._fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fix(v) for v in value]
        return value

    async def post(self, url: str, **kw: Any) -> Any:
        return await self.request("POST", url, **kw)

    async def request(self, method: str, url: str, **kw: Any) -> Any:
        return await self._client.request(method, self._fix(url), **self._fix(kw))
