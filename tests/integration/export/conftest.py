"""Export (spec §11) on each built-in backend: a fresh emulator per test (the kit's ``harness``
fixture, harnesses named by each module's ``RECORDGATE_HARNESSES``), a gateway built on it as
a deployment is, and the helpers that read an export back over loopback HTTP."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from gateway.testing.client import AUTH, ORG, walk
from gateway.testing.harness import Harness
from tests.contract.backends import HARNESSES

__all__ = ["AUTH", "EVERY_BACKEND", "ORG", "Exported", "export", "fail_after", "finished_filter",
           "read_csv", "read_ndjson", "walked"]

EVERY_BACKEND = [HARNESSES[name] for name in sorted(HARNESSES)]
PER_CALL = 40  # records per backend call: the seeded entities take several calls


@pytest.fixture
async def gw(harness: Harness, make_gateway: Any) -> TestClient[Any, Any]:
    return await make_gateway(  # type: ignore[no-any-return]
        {harness.type: harness.source(per_call=PER_CALL)})


def finished_filter(h: Harness) -> list[list[dict[str, Any]]]:
    """A filter no backend pushes whole (``contains "%"`` is a LIKE wildcard on SugarCRM and
    the Data Service, ``isNull`` on text is Slingr's ``empty()`` that also matches ""), so the
    gateway finishes it on every one."""
    t = h.roles.text
    return [[{"field": t, "operator": "contains", "value": "%"}],
            [{"field": t, "operator": "isNull"}],
            [{"field": t, "operator": "contains", "value": "e"}]]


class Exported:
    """An export's answer as read: status, headers, the body's bytes."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return orjson.loads(self.body)


async def export(client: TestClient[Any, Any], h: Harness, headers: dict[str, str] | None = None,
                 **params: Any) -> Exported:
    q = {"orgId": ORG, **{k: v if isinstance(v, str) else orjson.dumps(v).decode()
                          for k, v in params.items()}}
    resp = await client.get(f"/v1/records/{h.type}/{h.roles.entity}/export", params=q,
                            headers=headers or AUTH)
    return Exported(resp.status, resp.headers, await resp.read())


def read_ndjson(body: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, the control line's ``_export``); the control line must be the last line."""
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert lines and "_export" in lines[-1], body[-300:]
    assert all("_export" not in r for r in lines[:-1])
    return lines[:-1], lines[-1]["_export"]


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


async def walked(client: TestClient[Any, Any], h: Harness, body: dict[str, Any]
                 ) -> list[dict[str, Any]]:
    """The same query walked in pages of 1000 through the query endpoint."""
    records, _ = await walk(client, h, body, 1000)
    return records


def fail_after(emulator: Any, n: int, path_part: str, *, status: int = 500) -> None:
    """From the (n+1)th request whose path holds ``path_part`` on, the emulator answers
    ``status`` (every retry too): a backend that breaks in the middle of a walk."""
    faults = emulator.faults
    take = faults.take
    seen = 0

    def counting(method: str, path: str) -> Any:
        nonlocal seen
        if path_part in path:
            seen += 1
            if seen == n + 1:
                faults.fail(status, times=1000, path=path)
        return take(method, path)

    faults.take = counting
