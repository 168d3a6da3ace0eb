"""Uploaded file names keep only their last path segment, whether they come in the multipart
part's ``filename`` or in ``?filename=``; names that leave nothing, or carry control
characters, are 400; and a stored name can never break the download's Content-Disposition."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

import tests.integration.http.test_files_http as files
from gateway.connector import FileInfo
from tests.integration.http.conftest import auth
from tests.integration.http.test_files_http import ORG, URL, gw

__all__ = ["gw"]  # the fixture, shared with the files tests

REDUCED = [
    ("../../etc/passwd", "passwd"),
    ("/etc/passwd", "passwd"),
    ("C:\\x\\y.txt", "y.txt"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("a/b\\c/d.txt", "d.txt"),
    ("plain name.txt", "plain name.txt"),
    ("résumé.pdf", "résumé.pdf"),
    ("...hidden", "...hidden"),
]
REFUSED = ["../", "dir/", "..", ".", "a/..", "C:\\", "a\nb.txt", "a\rb.txt", "x\x00.txt",
           "ok/\x1b[31m.txt", "\x85.txt", "   "]


@pytest.mark.parametrize(("given", "stored"), REDUCED)
async def test_query_filename_is_reduced_to_its_base_name(gw: Any, given: str,
                                                          stored: str) -> None:
    resp = await gw.put(URL, params={**ORG, "filename": given}, data=b"abc", headers=auth())
    body = await resp.json()
    assert resp.status == 200, body
    assert body["data"]["filename"] == stored
    assert files.WATCH.files["1"][0].filename == stored  # what the connector was given


@pytest.mark.parametrize(("given", "stored"), REDUCED)
async def test_multipart_filename_is_reduced_to_its_base_name(gw: Any, given: str,
                                                              stored: str) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"abc", filename=given, content_type="text/plain")
    resp = await gw.put(URL, params=ORG, data=form, headers=auth())
    body = await resp.json()
    assert resp.status == 200, body
    assert body["data"]["filename"] == stored
    assert files.WATCH.files["1"][0].filename == stored


@pytest.mark.parametrize("given", REFUSED)
async def test_names_without_a_file_or_with_controls_are_400(gw: Any, given: str) -> None:
    resp = await gw.put(URL, params={**ORG, "filename": given}, data=b"abc", headers=auth())
    body = await resp.json()
    assert resp.status == 400, body
    assert body["error"] == "invalid_request" and body["details"][0]["path"] == "filename"
    assert "1" not in files.WATCH.files  # nothing reached the connector


async def test_a_raw_multipart_name_with_a_path_is_reduced(gw: Any) -> None:
    body = (b'--zzz\r\nContent-Disposition: form-data; name="file"; '
            b'filename="../../../root/.ssh/authorized_keys"\r\n'
            b"Content-Type: text/plain\r\n\r\nssh-rsa AAAA\r\n--zzz--\r\n")
    resp = await gw.put(URL, params=ORG, data=body, headers={
        **auth(), "Content-Type": "multipart/form-data; boundary=zzz"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["data"]["filename"] == "authorized_keys"


@pytest.mark.parametrize("stored", [
    'a"b.txt',
    "evil.txt\r\nSet-Cookie: owned=1",
    'x";\r\n\r\n<html>',
    "../../etc/passwd",
    "C:\\x\\y.txt",
    "名前.txt",
    "tab\there.txt",
])
async def test_a_stored_name_cannot_break_content_disposition(gw: Any, stored: str) -> None:
    # A name the backend already holds (stored by another client, or before this fix).
    files.WATCH.files["1"] = (FileInfo(stored, "text/plain", 3), b"abc")
    files.WATCH.client_read.set()
    resp = await gw.get(URL, params=ORG, headers=auth())
    assert resp.status == 200
    assert await resp.read() == b"abc"
    assert "Set-Cookie" not in resp.headers
    header = resp.headers["Content-Disposition"]
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="')
    expected = stored.replace("\\", "/").rsplit("/", 1)[-1]
    assert resp.content_disposition is not None
    assert resp.content_disposition.filename == expected
    if any(c < " " or c == "\x7f" or not c.isascii() or c == '"' for c in expected):
        assert "filename*=UTF-8''" in header  # the exact name, percent-encoded
