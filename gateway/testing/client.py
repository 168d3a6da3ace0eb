"""How the kit's tests talk to a gateway: its config, the consumer's key and org, paged reads.

Everything goes over loopback HTTP to a gateway built by ``create_app`` from YAML text, as a
deployment would be; the expected answers come from :mod:`gateway.testing.oracle`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from aiohttp.test_utils import TestClient

from gateway.testing.harness import Harness
from gateway.testing.oracle import expected

__all__ = ["AUTH", "ORG", "GatewayFor", "MakeGateway", "gateway_config_text", "oracle", "query",
           "walk"]

ORG = "acme"
AUTH = {"Authorization": "Bearer test-key"}

MakeGateway = Callable[..., Awaitable[TestClient[Any, Any]]]
GatewayFor = Callable[..., Awaitable[TestClient[Any, Any]]]


def gateway_config_text(
    sources: dict[str, Any],
    *,
    consumers: list[dict[str, Any]] | None = None,
    server: dict[str, Any] | None = None,
    orgs: dict[str, Any] | None = None,
) -> str:
    """The YAML of a gateway with these sources and one consumer (``test-key``, org acme)."""
    doc: dict[str, Any] = {
        "server": {"maxPageSize": 1000, **(server or {})},
        "consumers": consumers
        or [{"name": "tester", "apiKey": "test-key", "orgs": ["acme"]}],
        "sources": sources,
    }
    if orgs:
        doc["orgs"] = orgs
    return str(yaml.safe_dump(doc, sort_keys=False))


async def query(client: TestClient[Any, Any], h: Harness, body: dict[str, Any],
                status: int = 200) -> dict[str, Any]:
    resp = await client.post(f"/v1/records/{h.type}/{h.roles.entity}/query",
                             params={"orgId": ORG}, json=body, headers=AUTH)
    payload = await resp.json()
    assert resp.status == status, payload
    return payload  # type: ignore[no-any-return]


async def walk(client: TestClient[Any, Any], h: Harness, body: dict[str, Any],
               page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Every page from 1 until an empty one; returns all records and the totalSize seen."""
    out: list[dict[str, Any]] = []
    totals = set()
    for page_no in range(1, 10_000):
        got = await query(client, h, {**body, "pageSize": page_size, "pageNo": page_no})
        totals.add(got["pagination"]["totalSize"])
        if not got["data"]:
            break
        assert len(got["data"]) <= page_size
        out.extend(got["data"])
    assert len(totals) == 1, f"totalSize changed while walking: {totals}"
    return out, totals.pop()


def oracle(h: Harness, filter: list[list[dict[str, Any]]] | None = None,
           order: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """What the contract says the answer is, from the backend's own data."""
    return expected(h.records(), h.types, filter, order,
                    case_insensitive=h.case_insensitive, id_key=h.id_key)
