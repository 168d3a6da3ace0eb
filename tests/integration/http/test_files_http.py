"""Files endpoints over real HTTP on a test-only connector that can watch the stream: the
connector gets the upload as chunks while the caller is still sending, the caller gets the
download while the connector is still producing, and a failure mid-download cuts the connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Literal

import aiohttp
import pytest

import gateway.config.model as config_model
import gateway.registry as registry
from gateway.config.model import GatewayConfig
from gateway.connector import EntityInfo, FieldInfo, FileDownload, FileInfo
from gateway.errors import BackendFailure, NotFound, SourceInfo
from gateway.http.app import create_app
from gateway.registry import ConnectorType
from tests.integration.http.conftest import APP_KEY, auth
from tests.integration.http.memory import (
    MEMORY_TYPE,
    STORES,
    MemoryConnector,
    MemorySource,
    MemoryStore,
)

URL = "/v1/records/docs/Docs/1/files/attachment"
ORG = {"orgId": "acme"}


class FilesSource(MemorySource):
    type: Literal["memfiles"]  # type: ignore[assignment]


class Watch:
    """What the test and the connector tell each other while bytes are in flight."""

    def __init__(self) -> None:
        self.upload_kind: type | None = None
        self.upload_first = asyncio.Event()
        self.upload_chunks = 0
        self.client_read = asyncio.Event()
        self.fail_mid_download = False
        self.fail_before_download = False
        self.files: dict[str, tuple[FileInfo, bytes]] = {}


WATCH = Watch()


class FilesConnector(MemoryConnector):
    capabilities = replace(MemoryConnector.capabilities, files=True)

    async def describe(self, entity: str) -> EntityInfo:
        if entity != "Docs":
            raise NotFound("unknown_entity", {"entity": entity, "source": "docs"})
        return EntityInfo("Docs", {"title": FieldInfo("title"),
                                   "attachment": FieldInfo("attachment", "file")})

    async def put_file(self, entity: str, record_id: str, field: str, *, filename: str,
                       content_type: str, chunks: AsyncIterable[bytes],
                       size: int | None) -> FileInfo:
        WATCH.upload_kind = type(chunks)
        data = bytearray()
        async for chunk in chunks:
            data += chunk
            WATCH.upload_chunks += 1
            WATCH.upload_first.set()
        info = FileInfo(filename, content_type, len(data))
        WATCH.files[record_id] = (info, bytes(data))
        return info

    @asynccontextmanager
    async def open_file(self, entity: str, record_id: str,
                        field: str) -> AsyncIterator[FileDownload]:
        if WATCH.fail_before_download:
            raise BackendFailure("backend_error_said", {"source": "docs", "text": "backend failed"},
                                 sent=True,
                                 source=SourceInfo("docs", 500, "fatal"))
        if record_id not in WATCH.files:
            raise NotFound()
        info, data = WATCH.files[record_id]

        async def chunks() -> AsyncIterator[bytes]:
            yield data[:1000]
            if WATCH.fail_mid_download:
                raise BackendFailure("backend_error_said", {"source": "docs", "text": "cut"},
                                     sent=True, source=SourceInfo("docs", None, "truncated_body"))
            await asyncio.wait_for(WATCH.client_read.wait(), 5)
            yield data[1000:]

        yield FileDownload(info, chunks())

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        WATCH.files.pop(record_id)


FILES_TYPE = ConnectorType(name="memfiles", config_model=FilesSource,
                           factory=lambda name, cfg, session, ctx: FilesConnector(name, cfg, ctx))


@pytest.fixture
async def gw(aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    global WATCH
    WATCH = Watch()
    types = MappingProxyType({"memory": MEMORY_TYPE, "memfiles": FILES_TYPE})
    monkeypatch.setattr(registry, "connector_types", lambda: types)
    monkeypatch.setattr(config_model, "connector_types", lambda: types)
    STORES["docs"] = MemoryStore(records={"Docs": {"1": {"id": "1", "title": "a"}}})
    STORES["mem"] = MemoryStore(records={"Accounts": {"1": {"id": "1", "name": "x"}}})
    config = GatewayConfig.model_validate({
        "server": {"maxBodyBytes": 10_000_000},
        "consumers": [{"name": "app", "apiKey": APP_KEY, "orgs": ["acme"]}],
        "sources": {
            "docs": {"type": "memfiles", "baseUrl": "http://127.0.0.1:9",
                     "auth": {"password": "pw-docs"}},
            "mem": {"type": "memory", "baseUrl": "http://127.0.0.1:9",
                    "auth": {"password": "pw-mem"}},
        },
    })
    return await aiohttp_client(create_app(config, configure_logs=False))


async def test_the_connector_reads_the_upload_while_the_caller_is_still_sending(gw: Any) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"a" * 100_000
        # Only a gateway that streams lets the connector see the first part by now.
        await asyncio.wait_for(WATCH.upload_first.wait(), 5)
        yield b"b" * 100_000

    resp = await gw.put(URL, params={**ORG, "filename": "f.bin"}, data=body(), headers=auth())
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["data"] == {"field": "attachment", "filename": "f.bin",
                                           "contentType": "application/octet-stream",
                                           "size": 200_000}
    assert WATCH.upload_kind is not None and not issubclass(WATCH.upload_kind, bytes | bytearray)
    assert WATCH.upload_chunks > 1


async def test_the_caller_reads_the_download_while_the_connector_is_still_producing(
    gw: Any,
) -> None:
    WATCH.files["1"] = (FileInfo("d.txt", "text/plain", 3000), b"x" * 3000)
    resp = await gw.get(URL, params=ORG, headers=auth())
    assert resp.status == 200 and resp.headers["Content-Length"] == "3000"
    assert resp.headers["Content-Type"] == "text/plain"
    first = await resp.content.readexactly(1000)
    WATCH.client_read.set()  # the connector sends the rest only once we had the start
    assert first + await resp.read() == b"x" * 3000


async def test_a_failure_mid_download_cuts_the_connection(gw: Any) -> None:
    WATCH.files["1"] = (FileInfo("d.txt", "text/plain", 3000), b"x" * 3000)
    WATCH.fail_mid_download = True
    resp = await gw.get(URL, params=ORG, headers=auth())
    assert resp.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    # The gateway is fine afterwards.
    WATCH.fail_mid_download = False
    WATCH.client_read.set()
    again = await gw.get(URL, params=ORG, headers=auth())
    assert again.status == 200 and len(await again.read()) == 3000


async def test_a_failure_before_the_first_byte_is_an_envelope(gw: Any) -> None:
    WATCH.fail_before_download = True
    resp = await gw.get(URL, params=ORG, headers=auth())
    body = await resp.json()
    assert resp.status == 502 and body["error"] == "backend_error"
    assert body["source"]["name"] == "docs"


async def test_a_source_without_files_is_422(gw: Any) -> None:
    for method in ("GET", "PUT", "DELETE"):
        resp = await gw.request(method, "/v1/records/mem/Accounts/1/files/name", params=ORG,
                                headers=auth())
        body = await resp.json()
        assert resp.status == 422 and body["error"] == "unsupported"
        assert "mem" in body["msg"] and "file" in body["msg"]


async def test_unknown_query_parameters_are_refused(gw: Any) -> None:
    resp = await gw.get(URL, params={**ORG, "fields": "x"}, headers=auth())
    assert resp.status == 400 and (await resp.json())["details"][0]["path"] == "fields"


async def test_openapi_documents_the_files_endpoints(gw: Any) -> None:
    doc = await (await gw.get("/openapi.json")).json()
    ops = doc["paths"]["/v1/records/{source}/{entity}/{id}/files/{field}"]
    assert {ops[m]["operationId"] for m in ("get", "put", "delete")} == {
        "files.get", "files.put", "files.delete"}
    assert "application/octet-stream" in ops["get"]["responses"]["200"]["content"]


async def test_a_multipart_body_cut_before_its_closing_boundary_is_refused(gw: Any) -> None:
    body = (b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
            b"hello, and then the caller went away")
    resp = await gw.put(URL, params=ORG, data=body, headers={
        **auth(), "Content-Type": "multipart/form-data; boundary=zzz"})
    payload = await resp.json()
    assert resp.status == 400 and "before the whole file arrived" in payload["msg"]
    assert "1" not in WATCH.files


async def test_a_malformed_multipart_body_is_400(gw: Any) -> None:
    resp = await gw.put(URL, params=ORG, data=b"garbage", headers={
        **auth(), "Content-Type": "multipart/form-data; boundary=zzz"})
    assert resp.status == 400 and "malformed" in (await resp.json())["msg"]
