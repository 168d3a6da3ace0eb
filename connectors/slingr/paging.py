"""Slingr id-offset walks: every record of a query, newest first, refusing a stuck cursor.

Numeric ``_offset`` can skip or repeat records when data changes between calls; an id offset
("the records after this one", valid only in id order) cannot, so full walks use it [SD-QL].
Each answer's ``offset`` must be new: a repeated one would loop forever, so it is a
BackendFailure, and the walk is bounded by the total the first answer announced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from connectors.slingr.client import ListAnswer
from gateway.errors import BackendFailure, SourceInfo

__all__ = ["walk_ids"]

Fetch = Callable[[dict[str, str]], Awaitable[ListAnswer]]


def _stuck(source: str, why: str) -> BackendFailure:
    return BackendFailure(
        "paging_stuck_reason", {"source": source, "backend": "Slingr", "reason": why},
        sent=True, source=SourceInfo(source, 200, "paging_loop"),
    )


async def walk_ids(
    fetch: Fetch, params: dict[str, str], size: int, source: str, *, descending: bool = True
) -> AsyncIterator[ListAnswer]:
    """Pages of ``params`` (a filter, ``_fields``) in id order, following ``offset`` ids."""
    base = {**params, "_sortField": "id", "_sortType": "desc" if descending else "asc",
            "_size": str(size)}
    seen_offsets: set[str] = set()
    seen = 0
    cursor: str | None = None
    bound: int | None = None
    for calls in range(1, 1_000_000):
        answer = await fetch(base if cursor is None else {**base, "_offset": cursor})
        if bound is None:
            # Every page holds at least one new record, so the first total bounds the calls
            # (records created meanwhile come before the cursor, newest first).
            bound = answer.total + 2
        if not answer.items:
            return
        yield answer
        seen += len(answer.items)
        nxt = answer.offset or str(answer.items[-1].get("id") or "")
        if not nxt or nxt == cursor or nxt in seen_offsets:
            raise _stuck(source, f"offset {nxt!r} repeated")
        if seen >= answer.total:
            return  # a short page alone proves nothing: Slingr may answer fewer than _size
        if calls >= bound:
            raise _stuck(source, f"more than {bound} calls for {answer.total} records")
        seen_offsets.add(nxt)
        cursor = nxt
    raise _stuck(source, "too many pages")  # pragma: no cover - bounded above
