"""Per-consumer token buckets: 429 with Retry-After, RateLimit-* headers, shared via Redis."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.integration.security.conftest import KEY, ORG, Gateway, auth

GET = f"/v1/records/mem/Accounts/1?orgId={ORG}"
SLOW = {"requestsPerSecond": 0.01, "burst": 2}  # no refill within a test


def limited(limit: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [{"name": "app", "apiKey": KEY, "orgs": [ORG], "rateLimit": limit or SLOW},
            {"name": "free", "apiKey": "unlimited-key-77", "orgs": [ORG]}]


async def test_burst_two_third_call_is_429(gateway: Gateway, backend: dict[str, Any]) -> None:
    gw = await gateway(consumers=limited(), state=backend)
    first, second, third = [await gw.get(GET, headers=auth()) for _ in range(3)]
    assert (first.status, second.status, third.status) == (200, 200, 429)
    assert first.headers["RateLimit-Limit"] == "2"
    assert [r.headers["RateLimit-Remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    body = await third.json()
    assert body["error"] == "rate_limited" and "app" in body["msg"]
    assert int(third.headers["Retry-After"]) >= 99  # one token at 0.01/s
    assert int(third.headers["RateLimit-Reset"]) >= 199  # two tokens to full
    # another consumer has its own (no) limit
    other = await gw.get(GET, headers=auth("unlimited-key-77"))
    assert other.status == 200 and "RateLimit-Limit" not in other.headers


async def test_headers_on_errors_too(gateway: Gateway) -> None:
    gw = await gateway(consumers=limited())
    resp = await gw.get(f"/v1/records/mem/Accounts/404?orgId={ORG}", headers=auth())
    assert resp.status == 404 and resp.headers["RateLimit-Remaining"] == "1"


async def test_public_routes_and_bad_keys_are_not_counted(gateway: Gateway) -> None:
    gw = await gateway(consumers=limited())
    for _ in range(3):
        assert (await gw.get("/healthz")).status == 200
        assert (await gw.get(GET, headers=auth("wrong-key-123"))).status == 401
    assert (await gw.get(GET, headers=auth())).headers["RateLimit-Remaining"] == "1"


async def test_server_default_applies_to_consumers_without_their_own(gateway: Gateway) -> None:
    gw = await gateway(server={"rateLimit": {"requestsPerSecond": 0.01, "burst": 1}})
    assert (await gw.get(GET, headers=auth())).status == 200
    assert (await gw.get(GET, headers=auth())).status == 429


async def test_bulk_costs_a_token_per_entry_up_to_the_bucket(gateway: Gateway) -> None:
    # Rate limits charge for the work (issue 16): 5 entries cost 5 tokens, but never more than
    # the bucket holds (2), so a bulk larger than the bucket needs it full and empties it.
    gw = await gateway(consumers=limited())
    reads = {"requests": [{"url": "/v1/records/mem/Accounts/1"}] * 5}
    resp = await gw.post(f"/v1/bulk?orgId={ORG}", json=reads, headers=auth())
    assert resp.status == 200 and resp.headers["RateLimit-Remaining"] == "0"
    assert [e["status"] for e in await resp.json()] == [200] * 5
    assert (await gw.get(GET, headers=auth())).status == 429


async def test_bulk_of_two_costs_two_tokens(gateway: Gateway) -> None:
    gw = await gateway(consumers=limited({"requestsPerSecond": 0.01, "burst": 3}))
    reads = {"requests": [{"url": "/v1/records/mem/Accounts/1"}] * 2}
    resp = await gw.post(f"/v1/bulk?orgId={ORG}", json=reads, headers=auth())
    assert resp.status == 200 and resp.headers["RateLimit-Remaining"] == "1"
    assert (await gw.get(GET, headers=auth())).status == 200
    refused = await gw.post(f"/v1/bulk?orgId={ORG}", json=reads, headers=auth())
    assert refused.status == 429 and (await refused.json())["error"] == "rate_limited"


async def test_replicas_share_the_bucket_through_redis(
    gateway: Gateway, backend: dict[str, Any]
) -> None:
    if backend["backend"] != "redis":
        return  # memory buckets are per process by design
    one: TestClient = await gateway(consumers=limited(), state=backend)
    two: TestClient = await gateway(consumers=limited(), state=backend)
    assert (await one.get(GET, headers=auth())).status == 200
    assert (await two.get(GET, headers=auth())).status == 200
    assert (await one.get(GET, headers=auth())).status == 429
    assert (await two.get(GET, headers=auth())).status == 429


async def test_redis_down_lets_calls_through(gateway: Gateway) -> None:
    state = {"backend": "redis", "url": "redis://127.0.0.1:1/0", "secretKey": "x" * 16}
    gw = await gateway(consumers=limited(), state=state)
    for _ in range(3):  # fails open: a limiter outage is not an API outage
        resp = await gw.get(GET, headers=auth())
        assert resp.status == 200 and "RateLimit-Limit" not in resp.headers
    # idempotent writes fail closed: without the store a repeat could write twice
    resp = await gw.post(f"/v1/records/mem/Contacts?orgId={ORG}", json={"name": "x"},
                         headers=auth(**{"Idempotency-Key": "k"}))
    body = await resp.json()
    assert resp.status == 503 and body["error"] == "backend_unavailable"
    assert "state store" in body["msg"] and "Retry-After" in resp.headers
