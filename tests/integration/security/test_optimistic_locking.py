"""Optimistic locking holds under concurrency on every backend: of many writers sending the same
version, exactly one wins and the others get 409 (issue 16, repro 1).

The Data Service has no conditional update: the gateway compares UpdateTime, then writes, under a
per-record lock in the state store; with Redis that lock holds across replicas. Slingr and
SugarCRM compare on the backend, so they must keep exactly one winner too."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.contract.backends import Harness
from tests.contract.harness_dataservice import DataServiceHarness
from tests.integration.security.conftest import ORG, Gateway, auth
from tests.redis_server import require_redis

WRITERS = 20


@pytest.fixture
def redis_state() -> dict[str, Any]:
    """One Redis state block (one key prefix) for every replica of a test."""
    return {"backend": "redis", "url": require_redis(), "prefix": f"test:{uuid.uuid4().hex}:",
            "secretKey": "locking-state-key-0001"}


def record_url(h: Harness, rid: str) -> str:
    return f"/v1/records/{h.type}/{h.roles.entity}/{rid}?orgId={ORG}"


async def create(gw: TestClient, h: Harness, name: str) -> dict[str, Any]:
    resp = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}?orgId={ORG}",
                         json={**h.roles.writable, h.roles.text: name}, headers=auth())
    body = await resp.json()
    assert resp.status == 201, body
    return body["data"]  # type: ignore[no-any-return]


async def current(gw: TestClient, h: Harness, rid: str) -> dict[str, Any]:
    resp = await gw.get(record_url(h, rid), headers=auth())
    assert resp.status == 200
    return (await resp.json())["data"]  # type: ignore[no-any-return]


async def race(clients: list[TestClient], h: Harness, rid: str, version: str,
               tag: str) -> list[tuple[int, str, str]]:
    """WRITERS versioned PATCHes at once, spread over ``clients``, half with If-Match and half
    with ``version`` in the body: (status, error id, the name that writer sent)."""
    async def one(i: int) -> tuple[int, str, str]:
        name = f"{tag} writer {i}"
        gw = clients[i % len(clients)]
        if i % 2:
            resp = await gw.patch(record_url(h, rid), json={h.roles.text: name},
                                  headers=auth(**{"If-Match": version}))
        else:
            resp = await gw.patch(record_url(h, rid), json={h.roles.text: name,
                                                            "version": version}, headers=auth())
        body = await resp.json()
        return resp.status, str(body.get("error", "")), name

    return await asyncio.gather(*(one(i) for i in range(WRITERS)))


async def test_one_of_twenty_versioned_updates_wins(
    harness: Harness, gateway: Gateway, backend: dict[str, Any]
) -> None:
    gw = await gateway(sources={harness.type: harness.source()}, state=backend)
    rid = (await create(gw, harness, "Locking Co"))["id"]
    for round_no in range(3):
        version = harness.version_of(await current(gw, harness, rid))
        got = await race([gw], harness, rid, version, f"round {round_no}")
        winners = [name for status, _, name in got if status == 200]
        assert len(winners) == 1, [s for s, _, _ in got]
        assert sorted(s for s, _, _ in got) == [200] + [409] * (WRITERS - 1)
        assert {err for status, err, _ in got if status == 409} == {"conflict"}
        assert (await current(gw, harness, rid))[harness.roles.text] == winners[0]


async def test_replicas_sharing_redis_keep_one_winner(
    aiohttp_server: Any, gateway: Gateway, redis_state: dict[str, Any]
) -> None:
    h = DataServiceHarness()
    await h.start(aiohttp_server)
    replicas = [await gateway(sources={h.type: h.source()}, state=redis_state) for _ in range(2)]
    rid = (await create(replicas[0], h, "Two Replicas Co"))["id"]
    for round_no in range(3):
        version = h.version_of(await current(replicas[0], h, rid))
        got = await race(replicas, h, rid, version, f"round {round_no}")
        assert sorted(s for s, _, _ in got) == [200] + [409] * (WRITERS - 1)


async def test_versioned_bulk_and_singles_have_one_winner_per_record(
    aiohttp_server: Any, gateway: Gateway, backend: dict[str, Any]
) -> None:
    h = DataServiceHarness()
    await h.start(aiohttp_server)
    gw = await gateway(sources={h.type: h.source()}, state=backend)
    made = [await create(gw, h, f"Bulk Race {i}") for i in range(20)]
    for round_no in range(2):
        versions = {r["id"]: h.version_of(await current(gw, h, r["id"])) for r in made}
        entries = [{"url": f"/v1/records/{h.type}/{h.roles.entity}/{rid}", "method": "PATCH",
                    "data": {h.roles.text: f"bulk {round_no}"}, "headers": {"If-Match": v}}
                   for rid, v in versions.items()]

        async def single(rid: str, v: str, n: int = round_no) -> int:
            resp = await gw.patch(record_url(h, rid), json={h.roles.text: f"single {n}"},
                                  headers=auth(**{"If-Match": v}))
            return resp.status

        async def batch(entries: list[dict[str, Any]] = entries) -> list[int]:
            resp = await gw.post(f"/v1/bulk?orgId={ORG}", json={"requests": entries},
                                 headers=auth())
            assert resp.status == 200
            return [e["status"] for e in await resp.json()]

        bulk_statuses, *singles = await asyncio.gather(
            batch(), *(single(rid, v) for rid, v in versions.items()))
        for rid, in_bulk, alone in zip(versions, bulk_statuses, singles, strict=True):
            assert sorted((in_bulk, alone)) == [200, 409], (rid, in_bulk, alone)
            shown = (await current(gw, h, rid))[h.roles.text]
            assert shown == (f"bulk {round_no}" if in_bulk == 200 else f"single {round_no}")
