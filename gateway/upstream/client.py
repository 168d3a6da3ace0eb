"""Upstream: one logical backend call with breaker, deadline, retries, auth, bulkhead, metrics.

Policy order per logical call, as style rule 7 lays out: breaker → retry → auth → metrics (see
``gateway/upstream/calls.py``). Each attempt is signed with the current token, sent within its
bulkhead slot, timed, counted and logged; a 401 on a signed call renews the token (once for all
concurrent callers) and resends once, since a 401 means the backend refused before acting.
This is a plain bounded loop rather than aiohttp client middlewares because an attempt must
include reading and decoding the body (a malformed or truncated answer is retried for reads,
and the per-call timeout must cover the body), which a middleware that returns an unread
``ClientResponse`` cannot do. Streamed calls (files) are in ``gateway/upstream/stream.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

from gateway.errors import BackendFailure, GatewayError
from gateway.observability import tracing
from gateway.upstream.breaker import BreakerCall
from gateway.upstream.calls import AuthHeader, Classifier, UpstreamResponse, _path, elapsed
from gateway.upstream.errors import map_errors
from gateway.upstream.retry import parse_retry_after
from gateway.upstream.stream import STREAM_CHUNK, StreamCalls

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = ["STREAM_CHUNK", "AuthHeader", "Classifier", "Upstream", "UpstreamResponse"]

_ = _path  # re-exported for callers that cut logged paths the same way


class Upstream(StreamCalls):
    """What a connector calls its backend through; one per connector (one credential)."""

    async def request(
        self,
        op: str,
        method: str,
        url: str,
        *,
        safe: bool,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        expect_json: bool = True,
    ) -> UpstreamResponse:
        """One logical call; returns a 2xx answer or raises a ``GatewayError``.

        ``safe``: repeating the call cannot change the backend twice (reads, whatever the HTTP
        method). ``expect_json``: a 2xx body that is not JSON is a backend failure. An open
        circuit answers 503 before any attempt; a full bulkhead 503 after a bounded wait; the
        request's deadline 504, or the backend's own 429/503 when its Retry-After won't fit.
        """
        if tracing.TRACER is None:
            with self._breaker_call() as call:
                return await self._request(
                    call, op, method, url, safe=safe, params=params, json=json, data=data,
                    headers=headers, auth=auth, expect_json=expect_json,
                )
        with tracing.span(f"{self.ctx.source} {op}", {
            "recordgate.source": self.ctx.source, "recordgate.operation": op,
            "http.request.method": method, "recordgate.safe": safe,
        }) as span, self._breaker_call() as call:
            return await self._request(
                call, op, method, url, safe=safe, params=params, json=json, data=data,
                headers=headers, auth=auth, expect_json=expect_json, span=span,
            )

    async def _request(
        self,
        call: BreakerCall,
        op: str,
        method: str,
        url: str,
        *,
        safe: bool,
        params: Mapping[str, str] | None,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        auth: bool,
        expect_json: bool,
        span: Span | None = None,
    ) -> UpstreamResponse:
        retries_left = self.ctx.retries
        renewed = False
        # Bounded: every allowed retry plus one resend after a token renewal.
        for attempt in range(self.ctx.retries + 2):
            sent_headers, token = await self._sign(headers, auth)
            async with self._slot():  # a full bulkhead: 503, never retried (it waited already)
                timeout, clipped = self._timeout()  # out of time: 504 before anything is sent
                outcome = await self._attempt(
                    op, method, url, params=params, json=json, data=data,
                    headers=sent_headers, attempt=attempt, time_limit=timeout,
                )
            if span is not None:
                _traced_attempt(span, attempt, outcome)
            if isinstance(outcome, BackendFailure):
                self._judge(call, outcome, clipped)
                if retries_left and self.policy.may_retry_error(outcome, safe=safe):
                    retries_left -= 1
                    await self._pause(attempt, None, outcome)
                    continue
                raise outcome
            resp = outcome
            self._judge(call, resp.status, clipped)
            if resp.status == 401 and token is not None and not renewed:
                renewed = True
                await self._renew(token)
                continue
            err: GatewayError | None
            if resp.ok:
                err = self._check_body(resp) if expect_json else None
                if err is None:
                    return resp
                call.failed = True  # a 200 that is not what the backend promised
                retryable = safe
            else:
                err = self.classify(op, resp)
                retryable = self.policy.may_retry_status(resp.status, safe=safe)
            if retryable and retries_left:
                retries_left -= 1
                await self._pause(attempt, parse_retry_after(resp.headers.get("Retry-After")), err)
                continue
            raise err
        raise self._refused_twice()  # only reachable when every attempt was a 401 resend

    async def _attempt(
        self,
        op: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        data: Any,
        headers: CIMultiDict[str],
        attempt: int,
        time_limit: float,
    ) -> UpstreamResponse | BackendFailure:
        """Send once, read the whole body, and count and log the attempt whatever happens;
        a transport failure is returned (mapped), not raised, for the retry decision."""
        started = time.perf_counter()
        status: int | str = "error"
        try:
            with map_errors(self.ctx.source):
                async with asyncio.timeout(time_limit):
                    async with self.session.request(
                        method, url, params=params, json=json, data=data, headers=headers,
                    ) as raw:
                        body = await raw.read()
                        status = raw.status
                        return UpstreamResponse(raw.status, raw.headers, body)
        except BackendFailure as exc:
            status = exc.source.error if exc.source and exc.source.error else "error"
            return exc
        finally:
            self._observe(op, method, url, status, elapsed(started), attempt)


def _traced_attempt(span: Span, attempt: int, outcome: UpstreamResponse | BackendFailure) -> None:
    """The logical call's span learns each attempt: how many so far and how the last ended
    (``recordgate.status``: the HTTP status, or the transport failure's kind); each attempt is
    also an event. A call that fails in the end also records its error (the span's status)."""
    status: int | str
    if isinstance(outcome, BackendFailure):
        status = outcome.source.error if outcome.source and outcome.source.error else "error"
    else:
        status = outcome.status
    span.set_attribute("recordgate.status", status)
    span.set_attribute("recordgate.attempts", attempt + 1)
    span.set_attribute("recordgate.retries", attempt)
    span.add_event("attempt", {"recordgate.attempt": attempt, "recordgate.status": status})
