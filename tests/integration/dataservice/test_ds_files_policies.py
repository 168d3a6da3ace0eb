"""Data Service file transfers obey the source's policies: breaker, retries, metrics, tokens."""

from collections.abc import AsyncIterator, Callable

import pytest
from ds_live import API
from prometheus_client import CollectorRegistry

from connectors.dataservice.config import DataServiceSource
from connectors.dataservice.connector import DataServiceConnector
from gateway.errors import BackendFailure, BackendUnavailable, NotFound
from gateway.observability.metrics import Metrics
from gateway.upstream.breaker import Breaker
from gateway.upstream.retry import RetryPolicy
from tests.integration.connector_fixtures import connectors

OLY, FIELD = "Olympics", "Logo"
PAYLOAD = b"\x89PNG" + bytes(range(256)) * 900


async def _chunks(data: bytes = PAYLOAD, step: int = 10_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i:i + step]


@pytest.fixture
async def guarded(server) -> AsyncIterator[Callable[..., tuple[DataServiceConnector, Metrics]]]:
    """``guarded(failures=3, retries=0)``: a connector behind a breaker, with its own metrics."""
    async with connectors("robots", DataServiceSource, DataServiceConnector) as open_one:

        def build(*, failures: int = 3, retries: int = 0) -> tuple[DataServiceConnector, Metrics]:
            metrics = Metrics(CollectorRegistry())
            breaker = Breaker("robots", failures=failures, open_seconds=30, metrics=metrics)
            conn = open_one({
                "type": "dataservice", "baseUrl": f"{server[1]}/acme/DefaultTenant",
                "auth": {"tokenUrl": f"{server[1]}/identity_/connect/token",
                         "clientId": "recordgate", "clientSecret": "recordgate-secret",
                         "scope": "DataService.Data.Read DataService.Data.Write "
                                  "DataService.Schema.Read"},
                "timeout": 5, "retries": retries,
            }, RetryPolicy(base=0.01, cap=0.05), metrics=metrics, breaker=breaker)
            return conn, metrics

        yield build


def _counted(metrics: Metrics, op: str, status: str) -> float:
    value = metrics.registry.get_sample_value(
        "gateway_backend_requests_total",
        {"source": "robots", "operation": op, "status": status})
    return value or 0.0


def _file_path(rid: str) -> str:
    return f"{API}/Attachment/{OLY}/{rid}/{FIELD}"


async def _download(conn: DataServiceConnector, rid: str) -> bytes:
    async with conn.open_file(OLY, rid, FIELD) as download:
        return b"".join([c async for c in download.chunks])


async def test_file_calls_are_counted_in_backend_requests(guarded, emu):
    conn, metrics = guarded()
    rid = emu.store.all(OLY)[0]["Id"]
    await conn.put_file(OLY, rid, FIELD, filename="logo.png", content_type="image/png",
                        chunks=_chunks(), size=len(PAYLOAD))
    assert await _download(conn, rid) == PAYLOAD
    await conn.delete_file(OLY, rid, FIELD)
    with pytest.raises(NotFound):
        await _download(conn, rid)
    assert _counted(metrics, "file_put", "200") == 1
    assert _counted(metrics, "file_get", "200") == 1
    assert _counted(metrics, "file_get", "404") == 1


async def test_an_open_circuit_refuses_file_calls_without_reaching_the_backend(guarded, emu):
    conn, metrics = guarded(failures=3)
    rid = emu.store.all(OLY)[0]["Id"]
    emu.faults.fail(500, times=3, path=f"{API}/EntityService/{OLY}/read/{rid}")
    for _ in range(3):
        with pytest.raises(BackendFailure) as failed:
            await conn.get(OLY, rid, None)
        assert failed.value.status == 502
    before = len(emu.log)

    with pytest.raises(BackendUnavailable) as refused:
        await _download(conn, rid)
    assert refused.value.status == 503 and refused.value.source.error == "circuit_open"

    started = False

    async def watched() -> AsyncIterator[bytes]:
        nonlocal started
        started = True
        yield PAYLOAD

    with pytest.raises(BackendUnavailable):
        await conn.put_file(OLY, rid, FIELD, filename="logo.png", content_type="image/png",
                            chunks=watched(), size=len(PAYLOAD))
    assert not started, "a refused upload must not read the caller's body"
    assert len(emu.log) == before, "nothing may reach the backend while the circuit is open"
    assert _counted(metrics, "file_get", "500") == 0


async def test_failing_downloads_open_the_circuit_for_the_whole_source(guarded, emu):
    conn, metrics = guarded(failures=2)
    rid = emu.store.all(OLY)[0]["Id"]
    await conn.put_file(OLY, rid, FIELD, filename="logo.png", content_type="image/png",
                        chunks=_chunks(), size=len(PAYLOAD))
    emu.faults.fail(500, times=2, path=_file_path(rid))
    for _ in range(2):
        with pytest.raises(BackendFailure) as failed:
            await _download(conn, rid)
        assert failed.value.status == 502
    assert _counted(metrics, "file_get", "500") == 2
    before = len(emu.log)
    with pytest.raises(BackendUnavailable):
        await conn.get(OLY, rid, None)
    assert len(emu.log) == before


async def test_a_download_is_retried_after_a_5xx_like_any_read(guarded, emu):
    conn, metrics = guarded(retries=1)
    rid = emu.store.all(OLY)[0]["Id"]
    await conn.put_file(OLY, rid, FIELD, filename="logo.png", content_type="image/png",
                        chunks=_chunks(), size=len(PAYLOAD))
    emu.faults.fail(503, times=1, path=_file_path(rid))
    assert await _download(conn, rid) == PAYLOAD
    assert _counted(metrics, "file_get", "503") == 1
    assert _counted(metrics, "file_get", "200") == 1


async def test_an_upload_is_never_repeated_after_a_5xx(guarded, emu):
    conn, metrics = guarded(retries=2)
    rid = emu.store.all(OLY)[0]["Id"]
    emu.faults.fail(500, times=1, path=_file_path(rid), method="POST")
    with pytest.raises(BackendFailure):
        await conn.put_file(OLY, rid, FIELD, filename="logo.png", content_type="image/png",
                            chunks=_chunks(), size=len(PAYLOAD))
    assert emu.log.count("POST", _file_path(rid)) == 1
    assert _counted(metrics, "file_put", "500") == 1


async def test_expired_tokens_renew_for_downloads_and_fail_only_that_upload(guarded, emu):
    conn, _ = guarded()
    rid = emu.store.all(OLY)[0]["Id"]
    await conn.put_file(OLY, rid, FIELD, filename="logo.png", content_type="image/png",
                        chunks=_chunks(), size=len(PAYLOAD))
    emu.expire_tokens()
    assert await _download(conn, rid) == PAYLOAD  # 401, renewed, asked again

    emu.expire_tokens()
    emu.reset_log()
    with pytest.raises(BackendFailure) as refused:
        await conn.put_file(OLY, rid, FIELD, filename="other.png", content_type="image/png",
                            chunks=_chunks(b"\x89PNG other"), size=None)
    assert refused.value.source.error == "token_refused" and "again" in refused.value.msg
    assert emu.log.count("POST", _file_path(rid)) == 1  # the spent body was not resent
    assert await _download(conn, rid) == PAYLOAD  # the refused upload stored nothing
