"""Replicas sharing one Redis: a write through one drops the other's cached answers (pub/sub),
and a replica that cannot hear the others (its subscription cut, or gone silent) answers from
the backend until it hears them again."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.integration.cache.conftest import (
    ORG,
    Gateway,
    StartGateway,
    auth,
    cache_config,
    first_id,
    read,
    record_calls,
    until,
)

ACCOUNTS = "/v1/records/sugarcrm/Accounts"


async def is_cached(gw: Gateway, sugar: Any, path: str) -> bool:
    """Whether a read of ``path`` is answered without a backend call (after one to keep it)."""
    await read(gw, path)
    calls = record_calls(sugar)
    await read(gw, path)
    return record_calls(sugar) == calls


async def name_of(gw: Gateway, path: str) -> str:
    body, _ = await read(gw, path)
    return str(body["data"]["name"])


async def test_a_write_on_one_replica_drops_the_others_answers(
        start_gateway: StartGateway, sugar: Any, redis_state: dict[str, Any]) -> None:
    one, other = [await start_gateway(cache_config(), state=redis_state) for _ in range(2)]
    path = f"{ACCOUNTS}/{first_id(sugar)}"
    await until(lambda: is_cached(other, sugar, path))  # subscribed, and the answer kept
    await until(lambda: is_cached(one, sugar, path))
    resp = await one.client.patch(f"{path}?orgId={ORG}", json={"name": "From Replica One"},
                                  headers=auth())
    assert resp.status == 200

    async def seen() -> bool:
        return await name_of(other, path) == "From Replica One"

    await until(seen)  # pub/sub delivery takes a moment: polled, bounded
    labels = {"source": "sugarcrm"}
    assert other.sample("gateway_cache_invalidations_total", origin="remote", **labels) == 1
    assert one.sample("gateway_cache_invalidations_total", origin="local", **labels) == 1
    # A replica's own message is not taken for another's.
    assert one.sample("gateway_cache_invalidations_total", origin="remote", **labels) == 0


async def test_a_native_batch_on_one_replica_reaches_the_other(
        start_gateway: StartGateway, sugar: Any, redis_state: dict[str, Any]) -> None:
    one, other = [await start_gateway(cache_config(), state=redis_state) for _ in range(2)]
    ids = sorted(r["id"] for r in sugar.emulator.store.all("Accounts"))[:2]
    paths = [f"{ACCOUNTS}/{rid}" for rid in ids]
    for path in paths:
        await until(lambda p=path: is_cached(other, sugar, p))
    resp = await one.client.post(f"/v1/bulk?orgId={ORG}", headers=auth(), json={"requests": [
        {"url": path, "method": "PATCH", "data": {"name": f"Batched {i}"}}
        for i, path in enumerate(paths)]})
    assert [e["status"] for e in await resp.json()] == [200, 200]

    async def seen() -> bool:
        return [await name_of(other, p) for p in paths] == ["Batched 0", "Batched 1"]

    await until(seen)


class RedisLink:
    """A TCP relay between a replica and Redis that a test can cut and restore, or whose
    subscriptions (the connections that sent SUBSCRIBE) it can freeze: kept open, silent."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server: asyncio.Server | None = None
        self.thawed = asyncio.Event()
        self.thawed.set()
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    flags: dict[str, bool]) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if b"SUBSCRIBE" in data.upper():
                    flags["subscriber"] = True
                if flags["subscriber"]:
                    await self.thawed.wait()  # held while frozen, not lost: a silent peer
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self._writers |= {writer, up_writer}
        flags = {"subscriber": False}
        for pipe in (self._pipe(reader, up_writer, flags), self._pipe(up_reader, writer, flags)):
            task = asyncio.ensure_future(pipe)
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def cut(self) -> None:
        """Refuse new connections and close the ones open (Redis as if it went away)."""
        assert self.server is not None
        self.server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._pipes):
            task.cancel()
        self._writers.clear()
        await self.server.wait_closed()


@pytest.fixture
async def link(redis_state: dict[str, Any]) -> Any:
    url = urlsplit(redis_state["url"])
    relay = RedisLink(url.hostname or "127.0.0.1", url.port or 6379)
    port = await relay.start()
    relayed = urlunsplit(url._replace(netloc=f"127.0.0.1:{port}"))
    yield relay, {**redis_state, "url": relayed}, port
    if relay.server is not None:
        relay.thawed.set()
        await relay.cut()


async def test_a_replica_that_lost_its_subscription_answers_from_the_backend(
        start_gateway: StartGateway, sugar: Any, redis_state: dict[str, Any], link: Any) -> None:
    relay, relayed_state, port = link
    writer = await start_gateway(cache_config(), state=redis_state)
    reader = await start_gateway(cache_config(), state=relayed_state)
    path = f"{ACCOUNTS}/{first_id(sugar)}"
    await until(lambda: is_cached(reader, sugar, path))
    await relay.cut()

    async def bypassing() -> bool:
        return not await is_cached(reader, sugar, path)

    await until(bypassing)
    # Written while the reader cannot hear of it: the reader answers from Sugar, not from
    # what it kept before.
    resp = await writer.client.patch(f"{path}?orgId={ORG}", json={"name": "While Cut Off"},
                                     headers=auth())
    assert resp.status == 200
    assert await name_of(reader, path) == "While Cut Off"
    assert not await is_cached(reader, sugar, path)
    await relay.start(port)  # Redis is back: the reader subscribes again and caches again
    await until(lambda: is_cached(reader, sugar, path))
    resp = await writer.client.patch(f"{path}?orgId={ORG}", json={"name": "Heard Again"},
                                     headers=auth())
    assert resp.status == 200

    async def seen() -> bool:
        return await name_of(reader, path) == "Heard Again"

    await until(seen)


async def test_a_silent_subscription_is_found_out(
        start_gateway: StartGateway, sugar: Any, redis_state: dict[str, Any], link: Any) -> None:
    relay, relayed_state, _ = link
    reader = await start_gateway(cache_config(), state=relayed_state)
    path = f"{ACCOUNTS}/{first_id(sugar)}"
    await until(lambda: is_cached(reader, sugar, path))
    relay.thawed.clear()  # the subscription stays open, silent: no error, no PONG

    async def bypassing() -> bool:
        return not await is_cached(reader, sugar, path)

    await until(bypassing, tries=1000)  # within two heartbeats (gateway/cache.py HEARTBEAT)
    relay.thawed.set()
    await until(lambda: is_cached(reader, sugar, path), tries=1000)
