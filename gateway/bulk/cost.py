"""What a bulk call will read, known before it runs: its query entries' page sizes, summed.

A query reads at least the page it answers, so ``Σ pageSize`` over the query entries is a floor
of the records the bulk call reads (scans read more, and are stopped when they cross the budget).
It is checked against ``recordsPerRequest`` before any entry runs, so a careless bulk of a
thousand full pages is refused (413) at the cost of parsing it, not of building its answer.
An entry whose ``pageSize`` is not a usable number counts the default page size: the entry
itself will be refused with a 400 when it runs (or answer the default page).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from gateway.bulk.entries import Entry
from gateway.query.parse import DEFAULT_PAGE_SIZE

__all__ = ["QUERY_ROUTES", "records_asked"]

QUERY_ROUTES = frozenset({"records.query", "records.query_get"})


def _page_size(raw: Any, max_page_size: int) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return min(raw, max_page_size)
    return min(DEFAULT_PAGE_SIZE, max_page_size)


def _asked(entry: Entry, max_page_size: int) -> int:
    if entry.route == "records.query_get":
        return _page_size(entry.query.get("pageSize"), max_page_size)
    try:
        data = orjson.loads(entry.body) if entry.body.strip() else None
    except orjson.JSONDecodeError:
        data = None
    return _page_size(data.get("pageSize") if isinstance(data, dict) else None, max_page_size)


def records_asked(entries: Iterable[object], max_page_size: int) -> int:
    """The records the query entries among ``entries`` ask for, at least."""
    return sum(_asked(e, max_page_size) for e in entries
               if isinstance(e, Entry) and e.route in QUERY_ROUTES)
