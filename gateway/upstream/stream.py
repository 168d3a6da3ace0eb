"""Streamed backend calls (files): bodies too large to hold, under the same policies.

``stream`` sends an async-iterable body as it is produced and yields the open answer, so
neither direction is ever held whole. A streamed body can be sent once only, so an attempt
that started sending it is never repeated. The breaker admits the call; a bulkhead call slot is
held while the request is sent and its answer's head awaited, and released once the head is in:
from then on the transfer is paced by whoever reads the body (a consumer on a slow link), so it
holds a transfer slot (``Bulkhead.transfers``) until the caller's block ends instead, and a
slow reader cannot shut other calls out of the source. The request's deadline clips opening:
backoff, token wait, connect and the wait for the answer's head. The transfer itself is bounded
per read by the source's timeout, not by the deadline, since a large file legitimately takes
longer than any one call (the consumer's side is bounded by ``server.writeTimeout``).

A body that fails on the consumer's side (the consumer hung up, stalled past its idle timeout,
sent more than the gateway takes) aborts the backend call too, but says nothing about the
backend: the breaker does not count it, and the consumer's own error is raised, not the broken
send it caused.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from multidict import CIMultiDict

from gateway.errors import BackendFailure, GatewayError, SourceInfo
from gateway.upstream.breaker import BreakerCall
from gateway.upstream.calls import CONSUMER_ABORTED, CallBase, UpstreamResponse, elapsed
from gateway.upstream.errors import map_errors
from gateway.upstream.retry import parse_retry_after

__all__ = ["STREAM_CHUNK", "StreamCalls"]

STREAM_CHUNK = 64 * 1024
# An error answer is read whole to classify it; a backend sending megabytes there is not
# telling us anything more, so stop reading at this size.
ERROR_BODY_MAX = 64 * 1024


class StreamCalls(CallBase):
    """The streamed half of :class:`gateway.upstream.client.Upstream`."""

    @asynccontextmanager
    async def stream(
        self,
        op: str,
        method: str,
        url: str,
        *,
        safe: bool,
        params: Mapping[str, str] | None = None,
        body: AsyncIterable[bytes] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One logical call whose bodies are streamed; yields the open 2xx answer.

        A non-2xx answer is read (up to 64 KiB), classified and raised before anything is
        yielded, so the caller only ever sees a success. ``body`` may be an async iterable of
        chunks, sent as it is produced (chunked unless ``headers`` carry a Content-Length);
        once it started flowing the call is never repeated, whatever ``safe`` says, since the
        chunks already sent are gone. Read the answer with :meth:`chunks` or :meth:`read`
        inside the block: they map transport failures to ``BackendFailure``. The per-call
        timeout applies to connecting and to each read, not to the whole transfer.
        """
        once = _OneShotBody(body) if isinstance(body, AsyncIterable) else None
        bulkhead = self.ctx.bulkhead
        transfers = None if bulkhead is None else bulkhead.transfers
        # The transfer slot first: a transfer refused for want of one never reaches the backend.
        relay = None if transfers is None else await transfers.acquire()
        try:
            with self._breaker_call() as call:
                resp, charged = await self._open_stream(
                    call, op, method, url, safe=safe, params=params,
                    data=once if once is not None else body, once=once, headers=headers,
                    auth=auth,
                )
                if bulkhead is not None:
                    bulkhead.release(charged)  # the head is in: the rest is a transfer
                try:
                    yield resp
                finally:
                    # Closing (not releasing) an answer the caller did not read to the end
                    # drops the connection instead of draining the rest of a large body into
                    # the pool.
                    if resp.content.at_eof():
                        resp.release()
                    else:
                        resp.close()
        finally:
            if transfers is not None:
                transfers.release(relay)

    async def _open_stream(
        self,
        call: BreakerCall,
        op: str,
        method: str,
        url: str,
        *,
        safe: bool,
        params: Mapping[str, str] | None,
        data: Any,
        once: _OneShotBody | None,
        headers: Mapping[str, str] | None,
        auth: bool,
    ) -> tuple[aiohttp.ClientResponse, str | None]:
        """The open 2xx answer, with a bulkhead slot held for the caller to release (and the
        consumer it is charged to)."""
        bulkhead = self.ctx.bulkhead
        retries_left = self.ctx.retries
        renewed = False
        for attempt in range(self.ctx.retries + 2):
            sent_headers, token = await self._sign(headers, auth)
            charged = None if bulkhead is None else await bulkhead.acquire()
            timeout, clipped = -1.0, False
            try:
                timeout, clipped = self._timeout()  # out of time: 504 before anything is sent
                raw = await self._open(op, method, url, params=params, data=data, once=once,
                                       headers=sent_headers, attempt=attempt, time_limit=timeout)
            except BaseException as exc:
                if bulkhead is not None:
                    bulkhead.release(charged)
                if once is not None and once.failure is not None and isinstance(exc, Exception):
                    # The consumer's side broke the send: the backend proved nothing either way.
                    raise once.consumer_error(exc) from None
                if not isinstance(exc, BackendFailure) or timeout < 0:
                    raise  # cancelled, or out of time before sending: the breaker learns nothing
                self._judge(call, exc, clipped)
                replayable = once is None or not once.started
                if retries_left and replayable and self.policy.may_retry_error(exc, safe=safe):
                    retries_left -= 1
                    await self._pause(attempt, None, exc)
                    continue
                raise
            self._judge(call, raw.status, clipped)
            if 200 <= raw.status < 300:
                return raw, charged
            if bulkhead is not None:
                bulkhead.release(charged)
            replayable = once is None or not once.started
            if raw.status == 401 and token is not None and not renewed:
                await self._error_answer(raw)
                await self._renew(token)
                if not replayable:
                    raise BackendFailure(
                        "token_refused_mid_upload", {"source": self.ctx.source},
                        sent=True, source=SourceInfo(self.ctx.source, 401, "token_refused"),
                    )
                renewed = True
                continue
            answer = await self._error_answer(raw)
            err = self.classify(op, answer)
            if replayable and retries_left and self.policy.may_retry_status(raw.status, safe=safe):
                retries_left -= 1
                await self._pause(attempt, parse_retry_after(answer.headers.get("Retry-After")),
                                  err)
                continue
            raise err
        raise self._refused_twice()  # only reachable when every attempt was a 401 resend

    async def chunks(
        self, resp: aiohttp.ClientResponse, size: int = STREAM_CHUNK
    ) -> AsyncIterator[bytes]:
        """The open answer's body as it arrives; a cut-off or stalled body is a BackendFailure."""
        while True:
            with map_errors(self.ctx.source):
                chunk = await resp.content.read(size)
            if not chunk:
                return
            yield chunk

    async def read(
        self, resp: aiohttp.ClientResponse, *, expect_json: bool = True
    ) -> UpstreamResponse:
        """The rest of an open (small) answer, as :meth:`request` returns it."""
        with map_errors(self.ctx.source):
            body = await resp.read()
        answer = UpstreamResponse(resp.status, resp.headers, body)
        err = self._check_body(answer) if expect_json else None
        if err is not None:
            raise err
        return answer

    async def _error_answer(self, raw: aiohttp.ClientResponse) -> UpstreamResponse:
        """A non-2xx answer, read up to a bound, for the classifier; the connection is closed
        when the body was longer (or broken) rather than drained."""
        try:
            with map_errors(self.ctx.source):
                body = await raw.content.read(ERROR_BODY_MAX)
        except BackendFailure:
            body = b""
        if raw.content.at_eof():
            raw.release()
        else:
            raw.close()
        return UpstreamResponse(raw.status, raw.headers, body)

    async def _open(
        self,
        op: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        data: Any,
        once: _OneShotBody | None,
        headers: CIMultiDict[str],
        attempt: int,
        time_limit: float,
    ) -> aiohttp.ClientResponse:
        """Send once and return the answer with only its head read; counted and logged."""
        started = time.perf_counter()
        status: int | str = "error"
        # No total: a large file legitimately takes longer than one call's timeout. aiohttp
        # starts the read timer once the request body is sent, so it bounds each wait.
        limits = aiohttp.ClientTimeout(
            total=None, sock_connect=min(time_limit, 10.0), sock_read=time_limit
        )
        try:
            with map_errors(self.ctx.source):
                raw = await self.session.request(
                    method, url, params=params, data=data, headers=headers, timeout=limits,
                    allow_redirects=False,  # a redirect would resend a body we no longer have
                )
            status = raw.status
            return raw
        except BackendFailure as exc:
            status = exc.source.error if exc.source and exc.source.error else "error"
            raise
        finally:
            if once is not None and once.failure is not None:
                status = CONSUMER_ABORTED  # whatever aiohttp made of it: ours, not the backend's
            self._observe(op, method, url, status, elapsed(started), attempt)


class _OneShotBody:
    """An async-iterable request body that knows whether it started flowing (and so can no
    longer be sent again), and whether the caller's chunks failed (the consumer's side broke
    the send, not the backend)."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.started = False
        self.failure: Exception | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._flow()

    async def _flow(self) -> AsyncIterator[bytes]:
        if self.started:
            raise RuntimeError("a streamed request body can be sent only once")
        self.started = True
        try:
            async for chunk in self._chunks:
                yield chunk
        except Exception as exc:  # not GeneratorExit: aiohttp closing us is not a failure
            self.failure = exc
            raise

    def consumer_error(self, broken_send: Exception) -> Exception:
        """What to raise for a send the caller's chunks broke: their own error when it is one
        the gateway renders (too large, cut off, stalled), else the broken send."""
        return self.failure if isinstance(self.failure, GatewayError) else broken_send
