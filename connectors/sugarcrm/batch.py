"""SugarCRM ``/bulk``: batch ops → sub-requests, and each sub-response → what the single call gives.

Wire facts in /work/shared/backends/sugarcrm-v10.md §8: ``{"requests": [{url, method, data,
headers}]}``, run sequentially as the calling user, every item run whatever the others did, the
answer a list in request order of ``{"contents", "headers", "status"}`` where a failed item
carries Sugar's normal error body and status. So each item is judged by the same error table as a
call sent alone (:func:`sub_response` adapts an item to what that table reads).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.connector import BatchOp
from gateway.errors import BackendFailure, InvalidRequest
from gateway.kit.base import malformed
from gateway.upstream.client import UpstreamResponse
from gateway.upstream.urls import join

__all__ = ["BULK_LIMIT", "api_version", "sub_request", "sub_response", "update_body"]

# Sugar sets no limit in code, and PY-S25 sends 20 per call. Items run one after another inside a
# single PHP request, so a chunk's time grows with its size (logic hooks and workflows run per
# record: ~50-200 ms each), and a lost answer leaves every item of its chunk unknown. 50 keeps a
# chunk at a few seconds, well inside the default 30 s per-call timeout, for 50x fewer calls.
BULK_LIMIT = 50

_VERSION = re.compile(r"v\d+(_\d+)?")


def api_version(base_url: str) -> str:
    """The API version the source is configured with (``…/rest/v11_4`` → ``v11_4``): items name
    it in their ``url``, and must use the same one as the rest of the connector's calls."""
    last = urlsplit(base_url).path.rstrip("/").rsplit("/", 1)[-1]
    return last if _VERSION.fullmatch(last) else "v10"


def update_body(data: dict[str, Any], record_id: str) -> dict[str, Any]:
    """The update body as ``SugarConnector.update`` sends it (its own id is noise to Sugar)."""
    body = dict(data)
    if body.get("id") == record_id:
        del body["id"]
    return body


def sub_request(version: str, module: str, op: BatchOp) -> dict[str, Any]:
    """One ``/bulk`` item doing what ``create``/``update``/``delete`` would do alone."""
    path = join(f"/{version}", module)
    if op.action == "create":
        return {"url": path, "method": "POST", "data": orjson.dumps(op.data or {}).decode()}
    if op.record_id is None:
        raise InvalidRequest("batch_needs_id", {"action": op.action})
    path = join(path, op.record_id)
    if op.action == "delete":
        return {"url": path, "method": "DELETE"}
    item: dict[str, Any] = {
        "url": path, "method": "PUT",
        "data": orjson.dumps(update_body(op.data or {}, op.record_id)).decode(),
    }
    if op.version:  # as the single update: an empty version is no lock
        item["headers"] = {"X-Timestamp": op.version}
    return item


def sub_response(source: str, item: Any) -> UpstreamResponse:
    """A ``/bulk`` answer item as the complete answer the same call alone would have had, so
    the connector's one classifier and its success path read it unchanged."""
    if not isinstance(item, dict):
        raise _bad(source)
    status = item.get("status")
    if status is None:
        status = 200  # Sugar's docs show null for a successful item; its code fills 200
    if isinstance(status, bool) or not isinstance(status, int):
        raise _bad(source)
    headers = item.get("headers")
    pairs = {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    contents = item.get("contents")
    body = orjson.dumps(contents)
    if isinstance(contents, str):
        try:  # a JSON document left as text: the body it stands for
            orjson.loads(contents)
            body = contents.encode()
        except orjson.JSONDecodeError:
            pass
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict(pairs)), body)


def _bad(source: str) -> BackendFailure:
    return malformed(source, "SugarCRM", "bulk")
