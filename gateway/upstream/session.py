"""One pooled ClientSession per source: connection limits, timeouts, no silent resends."""

from __future__ import annotations

import aiohttp
import orjson

from gateway.config.base import SourceBase

__all__ = ["open_session"]


def open_session(config: SourceBase) -> aiohttp.ClientSession:
    """A session for one source, shared by every org's connector of that source.

    aiohttp resends an idempotent request (PUT, DELETE) once by itself when a kept-alive
    connection turns out closed. That cannot tell "never arrived" from "arrived, answer lost",
    so a write could run twice; we switch it off and let ``gateway/upstream/retry.py`` decide
    with what it knows (the same switch aiohttp's own test client uses).
    """
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=config.maxConnections, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(total=config.timeout, sock_connect=min(config.timeout, 10)),
        json_serialize=lambda obj: orjson.dumps(obj).decode(),
        raise_for_status=False,
        auto_decompress=True,
    )
    session._retry_connection = False
    return session
