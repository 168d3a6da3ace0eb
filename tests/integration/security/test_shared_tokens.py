"""Replicas sharing one Redis log into a backend once per credential (spec §14, issue 12 item 1).

Two gateway apps (two replicas) on one Redis and one emulator: concurrent first calls spread over
both cost one login, an expiry seen by both costs one renewal, SugarCRM with per-platform
sessions enforced keeps working on both, the stored token is encrypted, and a replica with
another ``state.secretKey`` logs in again rather than fail.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.contract.backends import Harness
from tests.integration.security.conftest import ORG, Gateway, auth
from tests.redis_server import require_redis

CALLS = 20


def shared_state(prefix: str, key: str = "shared-token-key-0001") -> dict[str, Any]:
    return {"backend": "redis", "url": require_redis(), "prefix": prefix, "secretKey": key}


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


async def replicas(gateway: Gateway, h: Harness, state: dict[str, Any]) -> list[TestClient]:
    return [await gateway(sources={h.type: h.source()}, state=state) for _ in range(2)]


async def spread(clients: list[TestClient], h: Harness, n: int = CALLS) -> list[int]:
    """``n`` concurrent list calls, alternating between the replicas: their statuses."""
    url = f"/v1/records/{h.type}/{h.roles.entity}?orgId={ORG}&pageSize=1"

    async def one(i: int) -> int:
        resp = await clients[i % len(clients)].get(url, headers=auth())
        await resp.read()
        return resp.status

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def test_concurrent_first_calls_on_two_replicas_log_in_once(
    gateway: Gateway, harness: Harness, prefix: str
) -> None:
    both = await replicas(gateway, harness, shared_state(prefix))
    assert await spread(both, harness) == [200] * CALLS
    assert harness.token_calls() == 1


async def test_an_expired_token_is_renewed_once_for_both_replicas(
    gateway: Gateway, harness: Harness, prefix: str
) -> None:
    both = await replicas(gateway, harness, shared_state(prefix))
    assert await spread(both, harness) == [200] * CALLS
    harness.emulator.expire_tokens()  # every token issued so far is refused from now on
    assert await spread(both, harness) == [200] * CALLS
    assert harness.token_calls() == 2


async def test_sugar_replicas_do_not_log_each_other_out(
    gateway: Gateway, aiohttp_server: Any, prefix: str
) -> None:
    from tests.contract.harness_sugarcrm import SugarHarness

    h = SugarHarness()
    await h.start(aiohttp_server)
    h.emulator.tokens.eviction_grace = 0.0  # a new login kills the older session at once
    both = await replicas(gateway, h, shared_state(prefix))
    for _ in range(3):
        assert await spread(both, h) == [200] * CALLS
    h.emulator.expire_tokens()
    assert await spread(both, h) == [200] * CALLS
    assert h.token_calls() == 2  # one login, one refresh; no replica evicted the other


async def test_the_stored_token_is_encrypted(
    gateway: Gateway, aiohttp_server: Any, prefix: str, redis_client: Any
) -> None:
    from tests.contract.harness_sugarcrm import SugarHarness

    h = SugarHarness()
    await h.start(aiohttp_server)
    both = await replicas(gateway, h, shared_state(prefix))
    assert await spread(both, h, 2) == [200, 200]
    keys = [k async for k in redis_client.scan_iter(match=f"{prefix}token:*")]
    assert len(keys) == 1
    stored: bytes = await redis_client.get(keys[0])
    issued = {*h.emulator.tokens.refresh_tokens, *h.emulator.tokens._access}
    assert issued and not any(t.encode() in stored for t in issued)


async def test_another_secret_key_logs_in_again_instead_of_failing(
    gateway: Gateway, harness: Harness, prefix: str
) -> None:
    one = await gateway(sources={harness.type: harness.source()}, state=shared_state(prefix))
    other = await gateway(sources={harness.type: harness.source()},
                          state=shared_state(prefix, "another-secret-key-02"))
    assert await spread([one], harness, 3) == [200] * 3
    assert await spread([other], harness, 3) == [200] * 3
    assert harness.token_calls() == 2  # the stored token did not decrypt: a fresh login


async def test_a_replica_that_died_holding_the_lock_frees_it_by_expiry(
    gateway: Gateway, harness: Harness, prefix: str, redis_client: Any
) -> None:
    state = {**shared_state(prefix), "recordLockTtl": 1}
    both = await replicas(gateway, harness, state)
    # A replica took the credential's lock and died before logging in: the key expires.
    lock_key = f"{prefix}lock:token:{harness.type}:*"
    assert await spread(both[:1], harness, 1) == [200]
    [token_key] = [k async for k in redis_client.scan_iter(match=f"{prefix}token:*")]
    name = token_key.decode().removeprefix(prefix)
    await redis_client.delete(token_key)
    await redis_client.set(f"{prefix}lock:{name}", b"dead-owner", px=1000)
    assert [k async for k in redis_client.scan_iter(match=lock_key)]
    assert await spread(both[1:], harness, 3) == [200] * 3
    assert harness.token_calls() == 2


async def test_a_token_near_its_expiry_is_renewed_once_for_both_replicas(
    gateway: Gateway, aiohttp_server: Any, prefix: str
) -> None:
    from tests.contract.harness_sugarcrm import SugarHarness

    h = SugarHarness()
    await h.start(aiohttp_server, access_token_lifetime=2)  # renewed ~0.2 s before it dies
    h.emulator.tokens.eviction_grace = 0.0
    both = await replicas(gateway, h, shared_state(prefix))
    assert await spread(both, h, 4) == [200] * 4
    assert h.token_calls() == 1
    loop = asyncio.get_running_loop()
    until = loop.time() + 10
    while h.token_calls() == 1:  # polled: each round is 4 calls over both replicas
        assert loop.time() < until, "the token was never renewed"
        assert await spread(both, h, 4) == [200] * 4
        await asyncio.sleep(0.1)
    assert h.token_calls() == 2  # one refresh, by one replica; the other took it from Redis


async def test_a_replica_with_redis_down_logs_in_on_its_own(
    gateway: Gateway, harness: Harness
) -> None:
    down = {"backend": "redis", "url": "redis://127.0.0.1:1/0", "secretKey": "x" * 16}
    gw = await gateway(sources={harness.type: harness.source()}, state=down)
    assert await spread([gw], harness, 4) == [200] * 4
    assert harness.token_calls() == 1
