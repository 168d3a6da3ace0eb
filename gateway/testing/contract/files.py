"""Kit: files on record fields (spec §5), on every source whose harness names a file field.

Uploads are ~3 MB so a gateway that buffered whole files, or cut them, would show it; a chunked
upload (no Content-Length) proves the limit is enforced while streaming, not only up front.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.testing.client import AUTH, ORG

__all__ = [
    "h",
    "png",
    "test_bad_filename_is_400",
    "test_bodies_over_the_limit_are_413_whether_declared_or_streamed",
    "test_delete_then_the_file_is_gone",
    "test_field_that_holds_no_files_is_400_and_unknown_field_404",
    "test_file_routes_of_an_unknown_record_are_404",
    "test_multipart_upload_uses_the_part_name_and_type",
    "test_multipart_without_a_file_part_is_400",
    "test_names_that_need_encoding_round_trip",
    "test_raw_upload_then_download_gives_the_same_bytes_and_headers",
    "test_upload_replaces_the_previous_file",
]

BIG = 3 * 1024 * 1024 + 17  # not a multiple of any chunk size


def png(size: int, seed: bytes = b"") -> bytes:
    """A PNG header (so image fields accept it and report a size) followed by random bytes."""
    ihdr = struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(
        ">I", zlib.crc32(chunk))
    return head + seed + os.urandom(max(0, size - len(head) - len(seed)))


async def chunked(data: bytes, step: int = 100_003) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i:i + step]


@pytest.fixture
def h(harness: Any) -> Any:
    if harness.roles.file_entity is None or harness.roles.file_field is None:
        pytest.skip(f"{harness.type} harness names no file field")
    return harness


def file_url(h: Any, record_id: str, field: str | None = None) -> str:
    return (f"/v1/records/{h.type}/{h.roles.file_entity}/{record_id}/files/"
            f"{field or h.roles.file_field}")


async def some_record(gw: Any, h: Any) -> str:
    resp = await gw.get(f"/v1/records/{h.type}/{h.roles.file_entity}",
                        params={"orgId": ORG, "pageSize": "1"}, headers=AUTH)
    body = await resp.json()
    assert resp.status == 200, body
    if not body["data"]:
        pytest.skip(f"{h.type}: no {h.roles.file_entity} record to attach files to")
    return str(body["data"][0]["id"])


async def put(gw: Any, url: str, status: int = 200, **kw: Any) -> dict[str, Any]:
    params = {"orgId": ORG, **kw.pop("params", {})}
    resp = await gw.put(url, params=params, headers={**AUTH, **kw.pop("headers", {})}, **kw)
    body = await resp.json()
    assert resp.status == status, body
    if status >= 400:
        assert body["code"] == status and body["requestId"] == resp.headers["X-Request-Id"]
    return body  # type: ignore[no-any-return]


async def fetch(gw: Any, url: str, **params: str) -> tuple[aiohttp.ClientResponse, bytes]:
    resp = await gw.get(url, params={"orgId": ORG, **params}, headers=AUTH)
    return resp, await resp.read()


async def test_raw_upload_then_download_gives_the_same_bytes_and_headers(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    data = png(BIG)
    body = await put(gw, file_url(h, rid), data=data, params={"filename": "photo.png"},
                     headers={"Content-Type": "image/png"})
    assert body["data"] == {"field": h.roles.file_field, "filename": "photo.png",
                            "contentType": "image/png", "size": len(data)}
    resp, got = await fetch(gw, file_url(h, rid))
    assert resp.status == 200
    assert got == data
    assert resp.headers["Content-Type"].startswith("image/png")
    assert resp.headers["Content-Length"] == str(len(data))
    assert resp.headers["Content-Disposition"] == 'attachment; filename="photo.png"'
    assert resp.headers["X-Request-Id"]


async def test_multipart_upload_uses_the_part_name_and_type(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    data = png(200_000)
    form = aiohttp.FormData()
    form.add_field("note", "ignored")
    form.add_field("file", data, filename="card.png", content_type="image/png")
    body = await put(gw, file_url(h, rid), data=form)
    assert body["data"]["filename"] == "card.png"
    assert body["data"]["size"] == len(data)
    resp, got = await fetch(gw, file_url(h, rid))
    assert got == data and resp.content_disposition is not None
    assert resp.content_disposition.filename == "card.png"


async def test_multipart_without_a_file_part_is_400(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.png", content_type="image/png")
    body = await put(gw, file_url(h, rid), 400, data=form)
    assert body["error"] == "invalid_request" and "'file'" in body["msg"]


async def test_upload_replaces_the_previous_file(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    await put(gw, file_url(h, rid), data=png(50_000, b"first"), params={"filename": "a.png"},
              headers={"Content-Type": "image/png"})
    second = png(70_000, b"second")
    await put(gw, file_url(h, rid), data=second, params={"filename": "b.png"},
              headers={"Content-Type": "image/png"})
    resp, got = await fetch(gw, file_url(h, rid))
    assert got == second and resp.content_disposition.filename == "b.png"  # type: ignore[union-attr]


async def test_delete_then_the_file_is_gone(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    await put(gw, file_url(h, rid), data=png(10_000), params={"filename": "x.png"},
              headers={"Content-Type": "image/png"})
    resp = await gw.delete(file_url(h, rid), params={"orgId": ORG}, headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["data"] == {"id": rid, "field": h.roles.file_field}
    resp, _ = await fetch(gw, file_url(h, rid))
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
    again = await gw.delete(file_url(h, rid), params={"orgId": ORG}, headers=AUTH)
    assert again.status == 404 and (await again.json())["error"] == "not_found"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_file_routes_of_an_unknown_record_are_404(h: Any, gw: Any, method: str) -> None:
    url = file_url(h, h.missing_id)
    resp = await gw.request(method, url, params={"orgId": ORG}, headers=AUTH,
                            data=png(1000) if method == "PUT" else None)
    body = await resp.json()
    assert resp.status == 404, body
    assert body["error"] == "not_found" and h.missing_id in body["msg"]


async def test_field_that_holds_no_files_is_400_and_unknown_field_404(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    resp = await gw.get(f"/v1/sources/{h.type}/entities", params={"orgId": ORG}, headers=AUTH)
    entity = next(e for e in (await resp.json())["data"] if e["name"] == h.roles.file_entity)
    plain = next(f["name"] for f in entity["fields"] if f["type"] not in ("file", "json")
                 and f["name"] != "id")
    for method in ("GET", "PUT", "DELETE"):
        resp = await gw.request(method, file_url(h, rid, plain), params={"orgId": ORG},
                                headers=AUTH, data=b"x" if method == "PUT" else None)
        body = await resp.json()
        assert resp.status == 400, body
        assert body["error"] == "invalid_request" and body["details"][0]["path"] == "field"
    resp, raw = await fetch(gw, file_url(h, rid, "no_such_field_xyz"))
    assert resp.status == 404 and b"no_such_field_xyz" in raw


async def test_bodies_over_the_limit_are_413_whether_declared_or_streamed(
    h: Any, make_gateway: Any
) -> None:
    gw = await make_gateway({h.type: h.source()}, server={"maxBodyBytes": 1_000_000})
    rid = await some_record(gw, h)
    kept = png(20_000, b"kept")
    await put(gw, file_url(h, rid), data=kept, params={"filename": "kept.png"},
              headers={"Content-Type": "image/png"})
    big = png(1_500_000)
    declared = await put(gw, file_url(h, rid), 413, data=big,
                         headers={"Content-Type": "image/png"})
    assert declared["error"] == "payload_too_large"
    streamed = await put(gw, file_url(h, rid), 413, data=chunked(big),
                         headers={"Content-Type": "image/png"})
    assert streamed["error"] == "payload_too_large"
    _, got = await fetch(gw, file_url(h, rid))
    assert got == kept, "a refused upload must not replace the stored file"
    # Under the limit, a body without Content-Length streams through whole.
    small = png(900_000)
    await put(gw, file_url(h, rid), data=chunked(small), params={"filename": "s.png"},
              headers={"Content-Type": "image/png"})
    assert (await fetch(gw, file_url(h, rid)))[1] == small


# A backslash is a path separator in a file name (C:\x\y.png is stored as y.png), so the
# quoting case has a quote, a semicolon and a comma instead.
@pytest.mark.parametrize("name", ["résumé 写真.png", 'quote"and; semi,comma.png'])
async def test_names_that_need_encoding_round_trip(h: Any, gw: Any, name: str) -> None:
    rid = await some_record(gw, h)
    data = png(5000)
    body = await put(gw, file_url(h, rid), data=data, params={"filename": name},
                     headers={"Content-Type": "image/png"})
    assert body["data"]["filename"] == name
    resp, got = await fetch(gw, file_url(h, rid))
    assert got == data
    header = resp.headers["Content-Disposition"]
    assert header.isascii() and header.startswith("attachment; ")
    assert resp.content_disposition is not None and resp.content_disposition.filename == name
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="image/png")
    assert (await put(gw, file_url(h, rid), data=form))["data"]["filename"] == name


async def test_bad_filename_is_400(h: Any, gw: Any) -> None:
    rid = await some_record(gw, h)
    body = await put(gw, file_url(h, rid), 400, data=b"x", params={"filename": "a\nb.png"})
    assert body["details"][0]["path"] == "filename"
