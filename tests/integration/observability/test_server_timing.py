"""Server-Timing (spec §13) on each backend: the calls it names are the calls the emulator saw,
also for a streamed download, whose head goes out before its body is read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.testing.contract.files import file_url, some_record
from tests.contract.backends import Harness
from tests.integration.observability.conftest import AUTH, EVERY_BACKEND, ORG

RECORDGATE_HARNESSES = EVERY_BACKEND
TIMING = re.compile(r'gateway;dur=\d+\.\d\d, backend;dur=\d+\.\d\d;desc="(\d+) calls"')


async def test_a_streamed_download_names_the_calls_behind_it(
    harness: Harness, gw: TestClient[Any, Any]
) -> None:
    if harness.roles.file_entity is None:
        pytest.skip(f"{harness.type} harness names no file field")
    rid = await some_record(gw, harness)
    url = file_url(harness, rid)
    put = await gw.put(url, params={"orgId": ORG, "filename": "a.txt"}, data=b"x" * 70_000,
                       headers={**AUTH, "Content-Type": "text/plain"})
    assert put.status == 200, await put.text()
    harness.emulator.log.clear()
    resp = await gw.get(url, params={"orgId": ORG}, headers=AUTH)
    assert resp.status == 200 and len(await resp.read()) == 70_000
    found = TIMING.fullmatch(resp.headers["Server-Timing"])
    assert found is not None, resp.headers["Server-Timing"]
    assert int(found.group(1)) == len(harness.emulator.log) >= 1
