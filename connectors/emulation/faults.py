"""Fault injection for the emulators: latency, failures, 429s, dropped connections, bad bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = ["DROPPED", "Faults", "fault_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Kind = Literal["fail", "rate_limit", "drop", "malformed"]

# Set on the request when the connection was closed without an answer, so a request log can tell.
DROPPED = web.RequestKey("emulation_dropped", bool)
# What a half-sent answer looks like: a JSON document cut in the middle.
TRUNCATED_BODY = b'{"next_offset": 20, "records": [{"id": "'


@dataclass
class _Rule:
    kind: Kind
    remaining: int
    path: str | None
    method: str | None
    status: int = 500
    body: bytes | None = None
    retry_after: float = 1.0
    after_processing: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return True
        # A trailing '*' matches a prefix; anything else must equal the path (no query string).
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class Faults:
    """Faults armed by tests; each rule fires for the next N matching requests, in arming order."""

    def __init__(self) -> None:
        self.latency: float = 0.0
        self.in_maintenance: bool = False
        self._rules: list[_Rule] = []
        self._expire_hook: Callable[[], None] | None = None

    def fail(self, status: int = 500, times: int = 1, body: bytes | None = None,
             path: str | None = None, method: str | None = None) -> None:
        """The next `times` matching requests answer `status` (backend-shaped body unless given)."""
        self._rules.append(_Rule("fail", times, path, method, status=status, body=body))

    def rate_limit(self, times: int = 1, retry_after: float = 1, path: str | None = None,
                   method: str | None = None) -> None:
        """The next `times` matching requests answer 429 with a Retry-After header."""
        self._rules.append(_Rule("rate_limit", times, path, method, status=429,
                                 retry_after=retry_after))

    def drop(self, times: int = 1, after_processing: bool = False, path: str | None = None,
             method: str | None = None) -> None:
        """Close the connection without an answer; with after_processing the handler runs first."""
        self._rules.append(_Rule("drop", times, path, method, after_processing=after_processing))

    def malformed(self, times: int = 1, path: str | None = None,
                  method: str | None = None) -> None:
        """The next `times` matching requests answer 200 with a truncated, non-JSON body."""
        self._rules.append(_Rule("malformed", times, path, method, status=200))

    def maintenance(self, on: bool) -> None:
        """Switch the backend's own maintenance answer on or off."""
        self.in_maintenance = on

    def on_expire_tokens(self, hook: Callable[[], None]) -> None:
        """Let the emulator say what expiring every token means for it."""
        self._expire_hook = hook

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers as expired."""
        if self._expire_hook is None:
            raise RuntimeError("this emulator has no tokens to expire")
        self._expire_hook()

    def clear(self) -> None:
        """Disarm every rule, latency and maintenance."""
        self._rules.clear()
        self.latency = 0.0
        self.in_maintenance = False

    @property
    def pending(self) -> int:
        """How many faulted answers are still armed."""
        return sum(rule.remaining for rule in self._rules)

    def take(self, method: str, path: str) -> _Rule | None:
        for rule in self._rules:
            if rule.remaining > 0 and rule.matches(method, path):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return rule
        return None


def _drop(request: web.Request) -> web.Response:
    request[DROPPED] = True
    if request.transport is not None:
        # Closing the transport makes aiohttp's client raise ServerDisconnectedError; the response
        # returned below is never written.
        request.transport.close()
    return web.Response(status=499)


def _retry_after(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def fault_middleware(
    faults: Faults,
    error_body: Callable[[int], bytes],
    maintenance_answer: Callable[[web.Request], web.StreamResponse | None] | None = None,
) -> Middleware:
    """aiohttp middleware applying `faults` in front of an emulator's handlers.

    `error_body(status)` builds the backend's own error document for injected failures;
    `maintenance_answer(request)` gives the backend's maintenance answer, or None to let the
    request through (a backend may still let some calls in, e.g. an admin login).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if faults.in_maintenance:
            answer = (maintenance_answer(request) if maintenance_answer is not None
                      else _json(503, error_body(503)))
            if answer is not None:
                return answer
        rule = faults.take(request.method, request.path)
        if rule is None:
            return await handler(request)
        if rule.kind == "fail":
            body = rule.body if rule.body is not None else error_body(rule.status)
            return _json(rule.status, body)
        if rule.kind == "rate_limit":
            resp = _json(429, error_body(429))
            resp.headers["Retry-After"] = _retry_after(rule.retry_after)
            return resp
        if rule.kind == "malformed":
            return web.Response(status=200, body=TRUNCATED_BODY, content_type="application/json")
        if rule.after_processing:
            try:
                await handler(request)
            except web.HTTPException:
                pass
        return _drop(request)

    return middleware


def _json(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json",
                        headers={"Cache-Control": "no-store"})
