"""Slingr file transfers obey the source's policies: breaker, retries, metrics, tokens."""

from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client import CollectorRegistry

from connectors.slingr import files
from connectors.slingr.config import SlingrSource
from connectors.slingr.connector import SlingrConnector
from gateway.errors import BackendFailure, BackendUnavailable
from gateway.observability.metrics import Metrics
from gateway.upstream.breaker import Breaker
from gateway.upstream.retry import RetryPolicy
from tests.contract.harness_slingr import entities_config
from tests.integration.connector_fixtures import connectors
from tests.integration.slingr.conftest import BASE

E, FIELD = "companies", "logo"
PAYLOAD = b"\x89PNG" + bytes(range(256)) * 900


async def _chunks(data: bytes = PAYLOAD, step: int = 10_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i:i + step]


@pytest.fixture
async def guarded(server) -> AsyncIterator[Callable[..., tuple[SlingrConnector, Metrics]]]:
    """``guarded(failures=3, retries=0)``: a connector behind a breaker, with its own metrics."""
    async with connectors("app", SlingrSource, SlingrConnector) as open_one:

        def build(*, failures: int = 3, retries: int = 0) -> tuple[SlingrConnector, Metrics]:
            metrics = Metrics(CollectorRegistry())
            breaker = Breaker("app", failures=failures, open_seconds=30, metrics=metrics)
            conn = open_one({
                "type": "slingr", "baseUrl": server[1],
                "auth": {"email": "admin@example.com", "password": "admin"},
                "entities": entities_config(),
                "timeout": 5, "retries": retries,
            }, RetryPolicy(base=0.01, cap=0.05), metrics=metrics, breaker=breaker)
            return conn, metrics

        yield build


def _counted(metrics: Metrics, op: str, status: str) -> float:
    value = metrics.registry.get_sample_value(
        "gateway_backend_requests_total", {"source": "app", "operation": op, "status": status})
    return value or 0.0


async def _with_file(conn: SlingrConnector, emu) -> tuple[str, str]:
    """A company holding PAYLOAD as its logo: (record id, download path)."""
    rid = emu.store.all(E)[0]["id"]
    await conn.put_file(E, rid, FIELD, filename="logo.png", content_type="image/png",
                        chunks=_chunks(), size=len(PAYLOAD))
    ref = (await conn.get(E, rid, (FIELD,)))[FIELD]
    return rid, f"{BASE}/data/{E}/{rid}/files/{ref['id']}"


async def _download(conn: SlingrConnector, rid: str) -> bytes:
    async with conn.open_file(E, rid, FIELD) as download:
        return b"".join([c async for c in download.chunks])


def _upstream(conn: SlingrConnector):  # the connector's Upstream, to call files.* alone
    return conn.upstream


async def test_file_calls_are_counted_in_backend_requests(guarded, emu):
    conn, metrics = guarded()
    rid, _ = await _with_file(conn, emu)
    assert await _download(conn, rid) == PAYLOAD
    assert _counted(metrics, "file_upload", "200") == 1
    assert _counted(metrics, "file_get", "200") == 1


async def test_an_open_circuit_refuses_a_download_without_reaching_the_backend(
    guarded, emu, server
):
    conn, metrics = guarded(failures=3)
    rid, path = await _with_file(conn, emu)
    emu.faults.fail(500, times=3, path=f"{BASE}/data/{E}/{rid}", method="GET")
    for _ in range(3):
        with pytest.raises(BackendFailure) as failed:
            await conn.get(E, rid, None)
        assert failed.value.status == 502
    before = len(emu.log)

    url = server[1].removesuffix(BASE) + path
    with pytest.raises(BackendUnavailable) as refused:
        async with files.download(_upstream(conn), url, "logo.png"):
            pass
    assert refused.value.status == 503 and refused.value.source.error == "circuit_open"

    started = False

    async def watched() -> AsyncIterator[bytes]:
        nonlocal started
        started = True
        yield PAYLOAD

    with pytest.raises(BackendUnavailable):
        await files.upload(_upstream(conn), f"{server[1]}/files", filename="x.png",
                           content_type="image/png", chunks=watched())
    assert not started, "a refused upload must not read the caller's body"
    assert len(emu.log) == before, "nothing may reach the backend while the circuit is open"
    assert _counted(metrics, "file_get", "200") == 0


async def test_failing_downloads_open_the_circuit_for_the_whole_source(guarded, emu, server):
    conn, metrics = guarded(failures=2)
    rid, path = await _with_file(conn, emu)
    url = server[1].removesuffix(BASE) + path
    emu.faults.fail(500, times=2, path=path)
    for _ in range(2):
        with pytest.raises(BackendFailure) as failed:
            async with files.download(_upstream(conn), url, "logo.png"):
                pass
        assert failed.value.status == 502
    assert _counted(metrics, "file_get", "500") == 2
    before = len(emu.log)
    with pytest.raises(BackendUnavailable):
        await conn.get(E, rid, None)
    assert len(emu.log) == before


async def test_a_download_is_retried_after_a_5xx_like_any_read(guarded, emu):
    conn, metrics = guarded(retries=1)
    rid, path = await _with_file(conn, emu)
    emu.faults.fail(503, times=1, path=path)
    assert await _download(conn, rid) == PAYLOAD
    assert _counted(metrics, "file_get", "503") == 1
    assert _counted(metrics, "file_get", "200") == 1


async def test_an_upload_is_never_repeated_after_a_5xx(guarded, emu):
    conn, metrics = guarded(retries=2)
    rid = emu.store.all(E)[0]["id"]
    emu.faults.fail(500, times=1, path=f"{BASE}/files", method="POST")
    with pytest.raises(BackendFailure):
        await conn.put_file(E, rid, FIELD, filename="logo.png", content_type="image/png",
                            chunks=_chunks(), size=len(PAYLOAD))
    assert emu.calls("POST", "/files") == 1
    assert _counted(metrics, "file_upload", "500") == 1


async def test_expired_tokens_renew_for_downloads_and_fail_only_that_upload(
    guarded, emu, server
):
    conn, _ = guarded()
    rid, path = await _with_file(conn, emu)
    emu.expire_tokens()
    emu.reset_log()
    url = server[1].removesuffix(BASE) + path
    async with files.download(_upstream(conn), url, "logo.png") as download:
        assert b"".join([c async for c in download.chunks]) == PAYLOAD
    assert emu.log.count("GET", path) == 2  # refused, renewed, asked again

    emu.expire_tokens()
    with pytest.raises(BackendFailure) as refused:
        await files.upload(_upstream(conn), f"{server[1]}/files", filename="x.png",
                           content_type="image/png", chunks=_chunks())
    assert refused.value.source.error == "token_refused" and "again" in refused.value.msg
    assert emu.calls("POST", "/files") == 1  # the spent body was not resent
    assert await _download(conn, rid) == PAYLOAD
