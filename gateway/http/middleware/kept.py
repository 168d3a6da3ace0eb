"""Answers kept under an Idempotency-Key: what is stored, in what form, and how it is replayed.

A kept answer is one line of JSON (fingerprint, status, headers) followed by the body's bytes.
Only write answers are kept whole. A bulk answer's read entries (``GET``, or ``POST …/query``)
that succeeded keep their status and headers, and their ``contents`` become ``null``: a replay
says what happened to every entry without the gateway holding megabytes of records for a day
(read them again for the data). Failed read entries keep their error envelope (it is small).

Besides answers, a key holds a marker: ``p`` while its call runs, ``u`` when the call ran but
not even a compact answer found room (a repeat must not run it again).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = ["NOT_STORED", "REPLAYED_HEADER", "Kept", "decode", "encode", "marker", "read_entries",
           "replay", "without_contents"]

REPLAYED_HEADER = "Idempotent-Replayed"
# Framing and per-answer headers: recomputed for the replayed answer, never stored.
NOT_STORED = frozenset({
    "content-length", "transfer-encoding", "connection", "date", "server", "x-request-id",
    "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after",
})


@dataclass(frozen=True, slots=True)
class Kept:
    """What a key holds: a marker (``state`` ``p`` or ``u``) or an answer (``state`` ``a``)."""

    fp: str
    state: str
    status: int = 0
    headers: list[list[str]] = field(default_factory=list)
    body: bytes = b""


def marker(fp: str, state: str) -> bytes:
    return orjson.dumps({"fp": fp, "s": state})


def encode(fp: str, resp: web.Response, body: bytes) -> bytes:
    headers = [[k, v] for k, v in resp.headers.items() if k.lower() not in NOT_STORED]
    return orjson.dumps({"fp": fp, "s": "a", "status": resp.status, "headers": headers}) + (
        b"\n" + body)


def decode(raw: bytes) -> Kept:
    head, newline, body = raw.partition(b"\n")  # compact JSON never holds a raw newline
    meta: dict[str, Any] = orjson.loads(head)
    fp = str(meta.get("fp"))
    if "status" not in meta:
        return Kept(fp, str(meta.get("s", "p")))
    if not newline:  # kept before answers were stored raw: the body in base64
        body = base64.b64decode(str(meta.get("body", "")))
    return Kept(fp, "a", int(meta["status"]), list(meta.get("headers") or []), body)


def replay(kept: Kept) -> web.Response:
    resp = web.Response(status=kept.status, body=kept.body)
    for name, value in kept.headers:
        resp.headers.add(name, value)
    resp.headers[REPLAYED_HEADER] = "true"
    return resp


def read_entries(request_json: object) -> frozenset[int]:
    """Indices of a bulk request's read entries (``GET``, or ``POST`` to a ``…/query`` path)."""
    entries = request_json.get("requests") if isinstance(request_json, dict) else None
    if not isinstance(entries, list):
        return frozenset()
    found = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        method = str(entry.get("method", "")).upper()
        path = str(entry.get("url", "")).partition("?")[0].rstrip("/")
        if method == "GET" or (method == "POST" and path.endswith("/query")):
            found.add(index)
    return frozenset(found)


def without_contents(body: bytes, entries: frozenset[int] | None) -> bytes:
    """A bulk answer with the contents of the successful ``entries`` (all when None) set to
    null; the body unchanged when there is nothing to drop or it is not a bulk answer."""
    if entries is not None and not entries:
        return body
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if not isinstance(answer, list):
        return body
    for index, entry in enumerate(answer):
        if (isinstance(entry, dict) and (entries is None or index in entries)
                and isinstance(entry.get("status"), int) and 200 <= entry["status"] < 300):
            entry["contents"] = None
    return orjson.dumps(answer)
