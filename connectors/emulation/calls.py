"""The emulators' request log: every request seen, with its parsed body and the status answered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware

from connectors.emulation.faults import DROPPED

__all__ = ["Call", "CallLog", "log_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Call:
    """One request as the emulator saw it; status None means the connection was dropped."""

    method: str
    path: str
    query: dict[str, Any]
    body: Any
    status: int | None
    raw_path: str = ""  # as sent, still percent-encoded: what tests check path steps on


class CallLog(list[Call]):
    """The list of calls, with a counter for assertions like 'exactly one login'."""

    def count(self, method: str, path: str) -> int:  # type: ignore[override]
        return sum(1 for c in self if c.method == method.upper() and c.path == path)


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.startswith("multipart/"):
        return "<multipart>"
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def _query(request: web.Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        out[key] = values[0] if len(values) == 1 else list(values)
    return out


def log_middleware(log: CallLog) -> Middleware:
    """Outermost middleware: records every request, including faulted and dropped ones."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            raw = await request.read()
        except web.HTTPException:
            raw = b""
        body = _decode(raw, request.content_type)
        status: int | None = None
        try:
            resp = await handler(request)
            status = None if request.get(DROPPED) else resp.status
            return resp
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            log.append(Call(request.method, request.path, _query(request), body, status,
                            request.rel_url.raw_path))

    return middleware
