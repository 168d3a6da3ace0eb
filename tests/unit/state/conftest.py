"""The state suites run each test on both stores: in memory and on Redis (redis_server.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.state import MemoryStore, StateStore
from gateway.state.redis import RedisStore
from tests.redis_server import require_redis


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        made: StateStore = MemoryStore()
    else:  # one key prefix per test
        made = RedisStore(require_redis(), prefix=f"test:{uuid.uuid4().hex}:")
    yield made
    await made.aclose()
