"""Shared mutable state behind one small interface; the config picks memory or Redis."""

from __future__ import annotations

from gateway.config.model import StateConfig
from gateway.state.base import BucketGrant, Membership, StateFull, StateStore, StateUnavailable
from gateway.state.memory import MemoryStore

__all__ = ["BucketGrant", "Membership", "MemoryStore", "StateFull", "StateStore",
           "StateUnavailable", "open_store", "restart_warning"]


def open_store(config: StateConfig) -> StateStore:
    """The store the config names (Redis connects lazily, on first use)."""
    if config.backend == "redis":
        from gateway.state.redis import RedisStore  # only deployments that use it import redis

        assert config.url is not None  # guaranteed by StateConfig
        return RedisStore(config.url.get_secret_value(), prefix=config.prefix)
    return MemoryStore(max_bytes=config.maxBytes, prefix=config.prefix)


def restart_warning(config: StateConfig) -> str | None:
    """What to tell whoever starts a gateway whose state dies with its process, else None."""
    if config.backend != "memory":
        return None
    return ("warning: state.backend is memory: Idempotency-Key answers, rate-limit buckets and "
            "record locks live in this process only and are lost when it stops, so a retry "
            "after a restart can write twice; use state.backend: redis in production")
