"""Shared mutable state behind one small interface; the config picks memory or Redis."""

from __future__ import annotations

from gateway.config.model import StateConfig
from gateway.state.base import BucketGrant, Membership, StateFull, StateStore, StateUnavailable
from gateway.state.memory import MemoryStore

__all__ = ["BucketGrant", "Membership", "MemoryStore", "StateFull", "StateStore",
           "StateUnavailable", "open_store"]


def open_store(config: StateConfig) -> StateStore:
    """The store the config names (Redis connects lazily, on first use)."""
    if config.backend == "redis":
        from gateway.state.redis import RedisStore  # only deployments that use it import redis

        assert config.url is not None  # guaranteed by StateConfig
        return RedisStore(config.url.get_secret_value(), prefix=config.prefix)
    return MemoryStore(max_bytes=config.maxBytes, prefix=config.prefix)
