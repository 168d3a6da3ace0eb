"""Helpers to replay the seed's samples byte for byte: pinned clocks, pinned ids, exact bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import ClientResponse

from connectors.slingr.emulator import SlingrEmulator
from connectors.slingr.emulator.store import ObjectIds

__all__ = ["assert_exact", "pin_id", "seq"]


def seq(*values: int) -> Callable[[], int]:
    """A clock answering `values` one read at a time, then the last one forever."""
    left = list(values)
    return lambda: left.pop(0) if len(left) > 1 else left[0]


def pin_id(ids: ObjectIds | SlingrEmulator, wanted: str, *, made_before: int = 0) -> int:
    """Make the id generator's next id (after `made_before` others) end like `wanted`.

    Returns the epoch ms of the id's timestamp part, for the clock the caller pins."""
    gen = ids.store.ids if isinstance(ids, SlingrEmulator) else ids
    gen.machine = wanted[8:18]
    gen.counter = int(wanted[18:], 16) - 1 - made_before
    return int(wanted[:8], 16) * 1000


async def assert_exact(resp: ClientResponse, sample: Any, status: int = 200) -> None:
    """The answer is the sample, byte for byte in the emulator's compact JSON form."""
    body = await resp.read()
    assert resp.status == status, body
    assert resp.content_type == "application/json"
    assert body == orjson.dumps(sample), (body, orjson.dumps(sample))
