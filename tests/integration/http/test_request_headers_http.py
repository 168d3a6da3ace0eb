"""Request headers over real HTTP: repeated deciding headers are 400, content codings the
gateway cannot inflate are 415 (gzip, deflate and identity still work), bodies whose compressed
data is corrupt are 400, and no answer names the server's software or version."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import orjson
import pytest
from multidict import CIMultiDict

from tests.integration.http.conftest import APP_KEY, auth

QUERY = "/v1/records/mem/Accounts/query"
ORG = {"orgId": "acme"}
BODY = orjson.dumps({"pageSize": 2})


async def envelope(resp: Any, status: int, error: str) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body: dict[str, Any] = await resp.json()
    assert body["code"] == status and body["error"] == error
    assert body["requestId"] == resp.headers["X-Request-Id"]
    return body


async def test_two_authorization_headers_are_400_even_when_both_are_valid(client: Any) -> None:
    headers = CIMultiDict([("Authorization", f"Bearer {APP_KEY}"),
                           ("Authorization", f"Bearer {APP_KEY}")])
    resp = await client.get("/v1/records/mem/Accounts", params=ORG, headers=headers)
    body = await envelope(resp, 400, "invalid_request")
    assert body["details"] == [{"path": "Authorization",
                                "msg": "The header Authorization is given more than once"}]


async def test_a_valid_key_first_and_a_bad_one_second_is_400_not_the_first(client: Any) -> None:
    headers = CIMultiDict([("Authorization", f"Bearer {APP_KEY}"),
                           ("Authorization", "Bearer someone-else")])
    resp = await client.get("/v1/records/mem/Accounts", params=ORG, headers=headers)
    await envelope(resp, 400, "invalid_request")


async def test_two_if_match_headers_are_400_and_nothing_changes(client: Any) -> None:
    headers = CIMultiDict([*auth().items(), ("If-Match", "1"), ("If-Match", "2")])
    resp = await client.patch("/v1/records/mem/Accounts/1", params=ORG,
                              json={"name": "changed"}, headers=headers)
    body = await envelope(resp, 400, "invalid_request")
    assert body["details"][0]["path"] == "If-Match"
    again = await client.get("/v1/records/mem/Accounts/1", params=ORG, headers=auth())
    assert (await again.json())["data"]["name"] == "Acme"


async def test_the_duplicate_header_message_is_translated(client: Any) -> None:
    headers = CIMultiDict([("Authorization", f"Bearer {APP_KEY}"),
                           ("Authorization", f"Bearer {APP_KEY}")])
    resp = await client.get("/v1/records/mem/Accounts", params={**ORG, "locale": "es-ES"},
                            headers=headers)
    body = await envelope(resp, 400, "invalid_request")
    assert body["msg"] == "La cabecera Authorization aparece más de una vez"


# mtime=0 and plain ids: gzip stamps the time into its header, and pytest-xdist needs every
# worker to collect the same test ids.
@pytest.mark.parametrize(("coding", "data"), [
    ("gzip", gzip.compress(BODY, mtime=0)),
    ("GZip", gzip.compress(BODY, mtime=0)),
    ("deflate", zlib.compress(BODY)),
    ("identity", BODY),
], ids=["gzip", "GZip", "deflate", "identity"])
async def test_supported_codings_are_inflated(client: Any, coding: str, data: bytes) -> None:
    resp = await client.post(QUERY, params=ORG, data=data, headers={
        **auth(), "Content-Type": "application/json", "Content-Encoding": coding})
    assert resp.status == 200, await resp.text()
    assert len((await resp.json())["data"]) == 2


@pytest.mark.parametrize("coding", ["compress", "x-gzip", "gzip, gzip", "identity, gzip",
                                    "garbage!", "pack200-gzip"])
async def test_unsupported_codings_are_415_in_the_envelope(client: Any, coding: str) -> None:
    resp = await client.post(QUERY, params=ORG, data=BODY, headers={
        **auth(), "Content-Type": "application/json", "Content-Encoding": coding})
    body = await envelope(resp, 415, "unsupported_media_type")
    assert coding in body["msg"]
    assert resp.headers["Accept-Encoding"] == "gzip, deflate, identity"


async def test_two_content_encoding_lines_are_two_codings(client: Any) -> None:
    headers = CIMultiDict([*auth().items(), ("Content-Type", "application/json"),
                           ("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")])
    resp = await client.post(QUERY, params=ORG, data=gzip.compress(gzip.compress(BODY)),
                             headers=headers)
    await envelope(resp, 415, "unsupported_media_type")


async def test_an_unsupported_coding_on_a_write_changes_nothing(client: Any) -> None:
    resp = await client.patch("/v1/records/mem/Accounts/1", params=ORG,
                              data=orjson.dumps({"name": "x"}), headers={
                                  **auth(), "Content-Type": "application/json",
                                  "Content-Encoding": "compress"})
    await envelope(resp, 415, "unsupported_media_type")
    again = await client.get("/v1/records/mem/Accounts/1", params=ORG, headers=auth())
    assert (await again.json())["data"]["name"] == "Acme"


async def test_the_415_message_is_translated(client: Any) -> None:
    resp = await client.post(QUERY, params={**ORG, "locale": "ja-JP"}, data=BODY, headers={
        **auth(), "Content-Type": "application/json", "Content-Encoding": "compress"})
    body = await envelope(resp, 415, "unsupported_media_type")
    assert body["msg"].startswith("Content-Encoding 'compress' には対応していません")


async def test_without_a_key_an_unsupported_coding_is_still_401(client: Any) -> None:
    resp = await client.post(QUERY, params=ORG, data=BODY, headers={
        "Content-Type": "application/json", "Content-Encoding": "compress"})
    await envelope(resp, 401, "unauthorized")


async def test_a_coding_header_without_a_body_is_harmless(client: Any) -> None:
    resp = await client.get("/v1/records/mem/Accounts/1", params=ORG,
                            headers={**auth(), "Content-Encoding": "compress"})
    assert resp.status == 200


@pytest.mark.parametrize(("coding", "data"), [
    ("gzip", b"this is not gzip at all"),
    ("deflate", b"\x78\x9c nor deflate"),
])
async def test_corrupt_compressed_bodies_are_400_not_500(client: Any, coding: str,
                                                         data: bytes) -> None:
    resp = await client.post(QUERY, params=ORG, data=data, headers={
        **auth(), "Content-Type": "application/json", "Content-Encoding": coding})
    body = await envelope(resp, 400, "invalid_request")
    assert body["msg"] == f"The body could not be decoded as {coding}"


async def test_the_files_put_refuses_an_unsupported_coding(client: Any) -> None:
    resp = await client.put("/v1/records/mem/Accounts/1/files/name", params=ORG, data=b"x",
                            headers={**auth(), "Content-Encoding": "compress"})
    await envelope(resp, 415, "unsupported_media_type")


@pytest.mark.parametrize(("method", "path", "key"), [
    ("GET", "/v1/records/mem/Accounts?orgId=acme", True),
    ("GET", "/v1/records/mem/Accounts/999?orgId=acme", True),  # 404 envelope
    ("GET", "/v1/nowhere?orgId=acme", True),  # no route
    ("GET", "/v1/records/mem/Accounts?orgId=acme", False),  # 401
    ("DELETE", "/healthz", False),  # 405
    ("GET", "/healthz", False),
    ("GET", "/readyz", False),
    ("GET", "/metrics", False),
    ("GET", "/openapi.json", False),
    ("GET", "/docs", False),
    ("GET", "/docs/docs.js", False),
    ("GET", "/docs/nothing.js", False),
])
async def test_no_answer_names_the_servers_software(client: Any, method: str, path: str,
                                                     key: bool) -> None:
    resp = await client.request(method, path, headers=auth() if key else {})
    await resp.read()
    assert resp.headers.getall("Server") == ["recordgate"], (resp.status, resp.headers)

