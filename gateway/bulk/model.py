"""The /v1/bulk shapes (SugarCRM's /bulk): the parsed request, one entry's result, not_executed.

Parsing here checks only the *shape* of the body (a wrong shape is a 400 for the whole call, with
``requests[3].url``-style paths). What an entry asks for (its URL, method, data) is judged per
entry by the executor, so one bad entry does not sink the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.errors import Detail, InvalidRequest, NotExecuted, PayloadTooLarge

__all__ = [
    "BODY_KEYS",
    "ENTRY_KEYS",
    "BulkRequest",
    "EntryResult",
    "EntrySpec",
    "NotExecuted",
    "parse_bulk",
]

BODY_KEYS = frozenset({"requests", "failOnFirst"})
ENTRY_KEYS = frozenset({"url", "method", "data", "headers"})
_ABSENT: Any = object()


@dataclass(frozen=True, slots=True)
class EntrySpec:
    """One entry as sent: ``data`` is the raw value (a JSON string, any JSON value, or absent)."""

    url: str
    method: str = "GET"
    data: Any = _ABSENT
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def has_data(self) -> bool:
        return self.data is not _ABSENT


@dataclass(frozen=True, slots=True)
class BulkRequest:
    entries: tuple[EntrySpec, ...]
    fail_on_first: bool = False


@dataclass(slots=True)
class EntryResult:
    """What one entry answers: the status, the headers and the body its call alone would give."""

    status: int
    contents: Any
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"contents": self.contents, "headers": self.headers, "status": self.status}


def _sane(name: str, value: str) -> bool:
    # Nothing that could split or end a header line, and a token-like name.
    return (bool(name) and name.isascii() and ":" not in name
            and not any(c in name + value for c in "\r\n\0"))


def _headers(raw: Any, path: str, problems: list[Detail]) -> tuple[tuple[str, str], ...]:
    """An object of name → value, or (as Sugar's docs type it) a list of ``"Name: value"``."""
    pairs: list[tuple[str, str]] = []
    items: list[tuple[str, Any]]
    if isinstance(raw, dict):
        items = [(f"{path}.{name}", (name, value)) for name, value in raw.items()]
    elif isinstance(raw, list):
        items = []
        for i, item in enumerate(raw):
            name, sep, value = item.partition(":") if isinstance(item, str) else ("", "", "")
            items.append((f"{path}[{i}]", (name.strip(), value.strip() if sep else None)))
    else:
        if raw is not None:
            problems.append(Detail(path, "bulk_headers_not_object"))
        return ()
    for where, (name, value) in items:
        if not isinstance(name, str) or not isinstance(value, str) or not _sane(name, value):
            problems.append(Detail(where, "bad_bulk_header"))
        else:
            pairs.append((name, value))
    return tuple(pairs)


def _entry(raw: Any, path: str, problems: list[Detail]) -> EntrySpec | None:
    if not isinstance(raw, dict):
        problems.append(Detail(path, "bulk_entry_not_object"))
        return None
    before = len(problems)
    for key in raw:
        if key not in ENTRY_KEYS:
            problems.append(Detail(f"{path}.{key}", "unknown_key", {"key": key}))
    url = raw.get("url")
    if not isinstance(url, str) or not url:
        problems.append(Detail(f"{path}.url", "bad_bulk_url_type"))
    method = raw.get("method", "GET")
    if method is None:
        method = "GET"
    if not isinstance(method, str):
        problems.append(Detail(f"{path}.method", "bad_bulk_method_type"))
    headers = _headers(raw.get("headers"), f"{path}.headers", problems)
    if len(problems) > before:
        return None
    assert isinstance(url, str) and isinstance(method, str)
    return EntrySpec(url, method, raw.get("data", _ABSENT), headers)


def parse_bulk(body: dict[str, Any], *, max_entries: int) -> BulkRequest:
    """The body's shape → :class:`BulkRequest`; 400 naming every problem, 413 over the limit."""
    problems: list[Detail] = []
    for key in body:
        if key not in BODY_KEYS:
            problems.append(Detail(key, "unknown_key", {"key": key}))
    raw = body.get("requests")
    if not isinstance(raw, list):
        problems.append(Detail("requests", "bulk_requests_not_list"))
        raw = []
    fail = body.get("failOnFirst", False)
    if fail is None:
        fail = False
    if not isinstance(fail, bool):
        problems.append(Detail("failOnFirst", "bad_fail_on_first"))
    if len(raw) > max_entries:
        raise PayloadTooLarge("bulk_too_large", {"max": max_entries, "count": len(raw)})
    entries = [_entry(item, f"requests[{i}]", problems) for i, item in enumerate(raw)]
    if problems:
        first = problems[0]
        raise (InvalidRequest(first.key, first.params, details=problems) if len(problems) == 1
               else InvalidRequest("bulk_body_invalid", details=problems))
    return BulkRequest(tuple(e for e in entries if e is not None), fail_on_first=bool(fail))
