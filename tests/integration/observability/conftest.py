"""Explain, Server-Timing and tracing on each built-in backend: a test module names the
harnesses (``RECORDGATE_HARNESSES``) and the kit's ``harness`` fixture starts a fresh emulator
per test; ``gw`` is a gateway built on it as a deployment is."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.testing.client import AUTH, ORG
from tests.contract.backends import HARNESSES, Harness

__all__ = ["AUTH", "EVERY_BACKEND", "ORG"]

EVERY_BACKEND = [HARNESSES[name] for name in sorted(HARNESSES)]


@pytest.fixture
async def gw(harness: Harness, make_gateway: Any) -> TestClient[Any, Any]:
    """A gateway whose one source is the harness's emulator, at 5 records per backend call
    (so that pages take several calls)."""
    return await make_gateway(  # type: ignore[no-any-return]
        {harness.type: harness.source(per_call=5)}, server={"maxScanRecords": 1000})
