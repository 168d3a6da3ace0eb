"""Slow and stalling consumers, over real sockets to the gateway as `gateway serve` runs it.

Issue 16, repros 4 and 7: trickled headers held a connection for as long as the client liked;
a consumer reading an answer at a byte a second held its buffers (and, for a download, a
backend call slot) indefinitely, so 40 slow downloads shut every other consumer out of the
Data Service source with 503s.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import orjson
import pytest

from tests.contract.backends import HARNESSES
from tests.contract.test_files import png
from tests.integration.lifecycle.served import Served, eventually, serve_gateway

ORG = "acme"
SLOW, OTHER = "slow-key", "other-key"
CONSUMERS = [{"name": "slow", "apiKey": SLOW, "orgs": [ORG]},
             {"name": "other", "apiKey": OTHER, "orgs": [ORG]}]
FILE_SIZE = 8 * 1024 * 1024  # past what loopback's kernel buffers take in without a reader


async def _open_unread(port: int, request: bytes) -> socket.socket:
    """A client with a tiny receive window that sends ``request`` and then reads nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    await asyncio.get_running_loop().sock_sendall(sock, request)
    return sock


def _get(path: str, key: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n").encode()


async def test_trickled_headers_are_cut_after_the_header_timeout(aiohttp_server: Any) -> None:
    h = HARNESSES["sugarcrm"]()
    await h.start(aiohttp_server, accounts=5, contacts=5)
    async with serve_gateway({"crm": h.source()}, server={"headerTimeout": 0.5}) as gw:
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        await writer.drain()
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", gw.port)
        closed = asyncio.ensure_future(reader.read())  # b"" once the gateway closes it
        # A header line every 0.1 s: the connection is never idle, its headers never complete.
        for n in range(100):
            if closed.done():
                break
            writer.write(f"X-Trickle-{n}: 1\r\n".encode())
            await writer.drain()
            await asyncio.sleep(0.1)
        assert closed.done(), "a connection trickling headers for 10 s is still open"
        assert await closed == b""  # closed without an answer
        assert await asyncio.wait_for(idle_reader.read(), 5) == b""  # one that sent nothing too
        await eventually(lambda: gw.connections() == 0, 5, "connections closed")
        # A prompt client is served, and its kept-alive connection takes a second request.
        async with aiohttp.ClientSession() as session:
            for _ in range(2):
                async with session.get(f"{gw.url}/healthz") as resp:
                    assert resp.status == 200
        writer.close()
        idle_writer.close()


async def _stored_file(gw: Served, h: Any) -> str:
    """A record of the harness's file entity with an ``FILE_SIZE`` file on its file field."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {OTHER}"}) as s:
        async with s.get(f"{gw.url}/v1/records/{h.type}/{h.roles.file_entity}",
                         params={"orgId": ORG, "pageSize": "1"}) as resp:
            rid = str((await resp.json())["data"][0]["id"])
        path = f"/v1/records/{h.type}/{h.roles.file_entity}/{rid}/files/{h.roles.file_field}"
        async with s.put(f"{gw.url}{path}", params={"orgId": ORG, "filename": "big.png"},
                         data=png(FILE_SIZE), headers={"Content-Type": "image/png"}) as resp:
            assert resp.status == 200, await resp.text()
    return f"{path}?orgId={ORG}"


@pytest.mark.parametrize("kind", ["dataservice", "slingr", "sugarcrm"])
async def test_slow_downloads_do_not_shut_other_consumers_out(
    aiohttp_server: Any, kind: str
) -> None:
    """More stalled downloads than the source has call slots: a query still gets one."""
    h = HARNESSES[kind]()
    await h.start(aiohttp_server)
    source = h.source(maxInFlight=2, maxInFlightPerConsumer=2, queueTimeout=0.3)
    async with serve_gateway({kind: source}, consumers=CONSUMERS,
                             server={"writeTimeout": 30}) as gw:
        path = await _stored_file(gw, h)
        bulkhead = gw.app[_sources_key()].get(kind).bulkhead
        stalled = [await _open_unread(gw.port, _get(path, SLOW)) for _ in range(3)]
        try:
            await eventually(lambda: bulkhead.transfers.in_flight == 2, 10,
                             "two downloads relaying")
            async with aiohttp.ClientSession() as s:
                for _ in range(3):
                    async with s.get(f"{gw.url}/v1/records/{kind}/{h.roles.entity}",
                                     params={"orgId": ORG, "pageSize": "2"},
                                     headers={"Authorization": f"Bearer {OTHER}"}) as resp:
                        assert resp.status == 200, await resp.text()
            assert bulkhead.in_flight == 0  # the stalled relays hold no call slot
        finally:
            for sock in stalled:
                sock.close()
        await eventually(lambda: bulkhead.transfers.in_flight == 0, 10, "transfers released")


def _sources_key() -> Any:
    from gateway.http.keys import SOURCES

    return SOURCES


async def test_a_download_nobody_reads_is_cut_after_the_write_timeout(
    aiohttp_server: Any
) -> None:
    h = HARNESSES["dataservice"]()
    await h.start(aiohttp_server)
    async with serve_gateway({"dataservice": h.source()}, consumers=CONSUMERS,
                             server={"writeTimeout": 0.5}) as gw:
        path = await _stored_file(gw, h)
        bulkhead = gw.app[_sources_key()].get("dataservice").bulkhead
        sock = await _open_unread(gw.port, _get(path, SLOW))
        try:
            await eventually(lambda: bulkhead.transfers.in_flight == 1, 10, "the download starts")
            # Aborted by the gateway: its connection, its relay and its backend call all end.
            await eventually(lambda: bulkhead.transfers.in_flight == 0, 10,
                             "the stalled download's transfer slot freed")
            await eventually(lambda: gw.connections() == 0, 5, "connection closed")
            assert gw.in_flight() == 0
            received = 0
            loop = asyncio.get_running_loop()
            while True:
                try:
                    chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                received += len(chunk)
            assert received < FILE_SIZE  # cut short, never passed off as the whole file
        finally:
            sock.close()


async def test_a_large_answer_nobody_reads_is_dropped_after_the_write_timeout(
    aiohttp_server: Any
) -> None:
    """Not only downloads: an answer the consumer does not take (here a ~7 MB bulk of reads,
    past what the kernel buffers) is dropped with its connection, not kept in memory."""
    h = HARNESSES["sugarcrm"]()
    await h.start(aiohttp_server, accounts=3000, contacts=5)
    async with serve_gateway({"crm": h.source()}, server={"writeTimeout": 0.5}) as gw:
        entry = {"method": "POST", "url": f"/v1/records/crm/Accounts/query?orgId={ORG}",
                 "data": {"pageSize": 1000}}
        body = orjson.dumps({"requests": [entry] * 12})
        request = (f"POST /v1/bulk?orgId={ORG} HTTP/1.1\r\nHost: t\r\n"
                   f"Authorization: Bearer test-key\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        readers = [await _open_unread(gw.port, request) for _ in range(2)]
        try:
            await eventually(lambda: gw.connections() == 0, 20,
                             "unread answers dropped with their connections")
        finally:
            for sock in readers:
                sock.close()
