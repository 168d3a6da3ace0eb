"""Scopes on files: an upload is a write, a removal a delete (spec §5, consumers' operations)."""

from __future__ import annotations

from typing import Any

from tests.contract.harness_dataservice import DataServiceHarness
from tests.integration.security.conftest import ORG, Gateway, auth

READER, WRITER, DELETER = "file-reader-key-1", "file-writer-key-2", "file-deleter-key-3"


def consumer(name: str, key: str, *operations: str) -> dict[str, Any]:
    return {"name": name, "apiKey": key, "orgs": [ORG], "scopes": {"operations": list(operations)}}


async def test_uploads_need_write_and_removals_need_delete(
    aiohttp_server: Any, gateway: Gateway
) -> None:
    h = DataServiceHarness()
    await h.start(aiohttp_server)
    entity, field = h.roles.file_entity, h.roles.file_field
    gw = await gateway(sources={h.type: h.source()}, consumers=[
        consumer("reader", READER, "read"),
        consumer("writer", WRITER, "read", "write"),
        consumer("deleter", DELETER, "read", "delete"),
    ])
    listing = await (await gw.get(f"/v1/records/{h.type}/{entity}",
                                  params={"orgId": ORG, "pageSize": "1"},
                                  headers=auth(READER))).json()
    rid = listing["data"][0]["id"]
    url = f"/v1/records/{h.type}/{entity}/{rid}/files/{field}?orgId={ORG}"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))

    async def put(key: str) -> int:
        resp = await gw.put(url + "&filename=a.png", data=png,
                            headers=auth(key, **{"Content-Type": "image/png"}))
        return resp.status

    async def delete(key: str) -> int:
        return (await gw.delete(url, headers=auth(key))).status

    assert await put(READER) == 403  # read scope does not upload
    assert await put(DELETER) == 403  # nor does delete scope
    assert await put(WRITER) == 200
    assert (await gw.get(url, headers=auth(READER))).status == 200
    assert await delete(READER) == 403
    assert await delete(WRITER) == 403  # write scope does not remove a file
    assert await delete(DELETER) == 200
    assert (await gw.get(url, headers=auth(READER))).status == 404
