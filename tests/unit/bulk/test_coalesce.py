"""Batch: ops sent in entry order, in chunks of the limit, each op's outcome to its waiter."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from gateway.bulk.coalesce import Batch, can_coalesce
from gateway.bulk.model import NotExecuted
from gateway.connector import BatchOp, BatchOutcome, Capabilities
from gateway.errors import BackendFailure, GatewayError, NotFound


class Fake:
    name = "fake"

    def __init__(self, fail_ids: tuple[str, ...] = (), raise_exc: Exception | None = None,
                 short: bool = False) -> None:
        self.calls: list[tuple[str, list[str], bool]] = []
        self.fail_ids = fail_ids
        self.raise_exc = raise_exc
        self.short = short

    async def write_batch(self, entity: str, ops: Sequence[BatchOp], *,
                          fail_on_first: bool = False) -> list[BatchOutcome]:
        self.calls.append((entity, [op.record_id or "" for op in ops], fail_on_first))
        if self.raise_exc is not None:
            raise self.raise_exc
        out, stop = [], False
        for op in ops:
            if stop:
                out.append(BatchOutcome(executed=False))
            elif op.record_id in self.fail_ids:
                out.append(BatchOutcome(error=NotFound(f"{op.record_id} not found")))
                stop = fail_on_first
            else:
                out.append(BatchOutcome(record={"id": op.record_id}))
        return out[:-1] if self.short else out


async def run(batch: Batch, items: list[tuple[int, str, str]]) -> list[Any]:
    waiters = [asyncio.ensure_future(batch.submit(i, entity, BatchOp("delete", rid)))
               for i, entity, rid in items]
    await asyncio.sleep(0)
    await batch.flush()
    return await asyncio.gather(*waiters, return_exceptions=True)


async def test_ops_go_in_entry_order_chunked_and_split_by_entity() -> None:
    conn = Fake()
    batch = Batch("s", conn, limit=2, fail_on_first=False)  # type: ignore[arg-type]
    got = await run(batch, [(3, "A", "c"), (0, "A", "a"), (1, "A", "b"), (4, "B", "d"),
                            (5, "B", "e")])
    assert conn.calls == [("A", ["a", "b"], False), ("A", ["c"], False),
                          ("B", ["d", "e"], False)]
    assert batch.chunks == 3
    assert [o.record for o in got] == [{"id": r} for r in "cabde"]


async def test_fail_on_first_stops_later_chunks() -> None:
    conn = Fake(fail_ids=("b",))
    batch = Batch("s", conn, limit=2, fail_on_first=True)  # type: ignore[arg-type]
    got = await run(batch, [(i, "A", r) for i, r in enumerate("abcd")])
    assert len(conn.calls) == 1
    assert got[0].record == {"id": "a"} and isinstance(got[1].error, NotFound)
    assert [o.executed for o in got[2:]] == [False, False]


async def test_whole_call_failure_reaches_every_waiter_once() -> None:
    exc = BackendFailure("lost", sent=None)
    conn = Fake(raise_exc=exc)
    batch = Batch("s", conn, limit=5, fail_on_first=False)  # type: ignore[arg-type]
    got = await run(batch, [(i, "A", r) for i, r in enumerate("abc")])
    assert got == [exc, exc, exc] and len(conn.calls) == 1


async def test_a_short_answer_is_a_bug_for_every_op() -> None:
    batch = Batch("s", Fake(short=True), limit=5, fail_on_first=False)  # type: ignore[arg-type]
    got = await run(batch, [(0, "A", "a"), (1, "A", "b")])
    assert all(type(g) is GatewayError and g.status == 500 for g in got)


async def test_a_write_after_the_flush_is_left_to_the_caller() -> None:
    batch = Batch("s", Fake(), limit=5, fail_on_first=False)  # type: ignore[arg-type]
    await batch.flush()
    assert await batch.submit(0, "A", BatchOp("delete", "a")) is None


def test_not_executed_is_424() -> None:
    err = NotExecuted()
    assert (err.status, err.error) == (424, "not_executed")


@pytest.mark.parametrize(("caps", "action", "fof", "expected"), [
    (dict(native_batch=True, batch_actions=frozenset({"delete"})), "delete", False, True),
    (dict(native_batch=True, batch_actions=frozenset({"delete"})), "create", False, False),
    (dict(native_batch=True, batch_actions=frozenset({"delete"})), "delete", True, False),
    (dict(native_batch=True, batch_actions=frozenset({"delete"}), batch_fail_on_first=True),
     "delete", True, True),
    (dict(native_batch=False, batch_actions=frozenset({"delete"})), "delete", False, False),
])
def test_can_coalesce(caps: dict[str, Any], action: Any, fof: bool, expected: bool) -> None:
    full = Capabilities(operators=frozenset(), or_groups=False, sort=False, multi_sort=False,
                        max_page=1, counts=False, **caps)
    assert can_coalesce(full, action, fail_on_first=fof) is expected
