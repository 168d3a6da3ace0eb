"""Budgets: what one request and one consumer may make the gateway do, charged for the work.

Per request (a bulk call and its entries share one :class:`RequestBudget`, so they count the
sum): records read from backends, backend calls (each attempt, as counted for the access line)
and answer bytes. Crossing one is 413 ``payload_too_large`` naming the budget; where the cost
is known before the work (a bulk's entries times pageSize, a scan's count) the request is
refused before any of it is done, otherwise it is stopped when the budget is crossed.

Per consumer: queries that walk a backend's records (``scan``) at once, per replica (memory is
per process); backend calls per second and bulk entries per minute, token buckets in the state
store (shared by replicas with Redis). Crossing one is 429 ``rate_limited`` with ``Retry-After``.
Like the request rate limit, the buckets let calls through when the state store is down.

Refusals count in ``gateway_budget_refusals_total{budget}``. The request's budget lives in a
contextvar set by the limits middleware; outside a request (the CLI, unit tests) there is none
and nothing is charged.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import structlog
from aiohttp import web

from gateway.config.budgets import Budgets
from gateway.errors import Detail, PayloadTooLarge, RateLimited
from gateway.observability.metrics import Metrics
from gateway.state import StateStore, StateUnavailable
from gateway.upstream import deadline
from gateway.upstream.context import CALL_STATS

__all__ = [
    "BUDGET",
    "SCANS",
    "BudgetExceeded",
    "RequestBudget",
    "ScanSlots",
    "current",
]

log = structlog.get_logger("gateway.budgets")

BUDGET: ContextVar[RequestBudget | None] = ContextVar("gateway_budget", default=None)


def current() -> RequestBudget | None:
    """The budget of the request being served, if any."""
    return BUDGET.get()


class BudgetExceeded(PayloadTooLarge):
    """A request that would cross (or crossed) one of its per-request budgets."""

    def __init__(self, budget: str, limit: int, needed: int) -> None:
        params = {"budget": budget, "limit": limit, "needed": needed}
        super().__init__("budget_exceeded", params,
                         details=[Detail(f"budgets.{budget}", "budget_exceeded", params)])
        self.budget = budget


def _over_rate(budget: str, consumer: str, limit: float, wait: float) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    params = {"budget": budget, "consumer": consumer, "limit": f"{limit:g}", "seconds": seconds}
    return RateLimited("budget_rate_limited", params, retry_after=seconds,
                       details=[Detail(f"budgets.{budget}", "budget_rate_limited", params)])


class ScanSlots:
    """Scanning queries in flight per consumer, in this process. A direct request past its
    consumer's bound is refused at once; a bulk entry waits for a slot (its bulk call was
    admitted already, and its reads run concurrently only as a speed-up)."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._freed: dict[str, asyncio.Event] = {}

    def held(self, consumer: str) -> int:
        return self._held.get(consumer, 0)

    @asynccontextmanager
    async def hold(self, consumer: str, limit: int, *, wait: bool) -> AsyncIterator[None]:
        while self._held.get(consumer, 0) >= limit:
            if not wait:
                raise _over_rate("concurrentScans", consumer, limit, 1)
            freed = self._freed.setdefault(consumer, asyncio.Event())
            left = deadline.remaining()
            if left is not None and left <= 0:
                raise _over_rate("concurrentScans", consumer, limit, 1)
            try:  # the request's deadline bounds the wait, as every other wait
                await asyncio.wait_for(freed.wait(), left)
            except TimeoutError:
                raise _over_rate("concurrentScans", consumer, limit, 1) from None
        self._held[consumer] = self._held.get(consumer, 0) + 1
        try:
            yield
        finally:
            left = self._held[consumer] - 1
            if left:
                self._held[consumer] = left
            else:
                del self._held[consumer]
            woken = self._freed.pop(consumer, None)
            if woken is not None:
                woken.set()  # every waiter re-checks; the ones that do not fit wait again


SCANS = web.AppKey("scan_slots", ScanSlots)


@dataclass
class RequestBudget:
    """The budgets of one request and what it has spent so far."""

    limits: Budgets
    consumer: str
    store: StateStore
    scans: ScanSlots
    metrics: Metrics | None = None
    bulk: bool = False  # a bulk call: its scans wait for a slot instead of being refused
    records: int = 0
    bytes: int = 0
    _prepaid: int = field(default=0, repr=False)  # backend calls already taken from the bucket
    _counted: set[str] = field(default_factory=set, repr=False)

    def refused(self, budget: str) -> None:
        """Count a refusal once per request and budget (a bulk's many entries refused by one
        spent budget are one refusal)."""
        if budget in self._counted:
            return
        self._counted.add(budget)
        if self.metrics is not None:
            self.metrics.budget_refused(budget)
        log.info("budget_refused", budget=budget, consumer=self.consumer)

    def _exceeded(self, budget: str, limit: int, needed: int) -> BudgetExceeded:
        self.refused(budget)
        return BudgetExceeded(budget, limit, needed)

    # -- per request -------------------------------------------------------------------------

    @staticmethod
    def calls() -> int:
        """Backend calls this request made so far (its bulk entries' included)."""
        stats = CALL_STATS.get()
        return 0 if stats is None else stats.calls

    def check_calls(self, more: int = 1) -> None:
        """Before making ``more`` backend calls: 413 when they would cross the budget."""
        limit = self.limits.backendCallsPerRequest
        if self.calls() + more > limit:
            raise self._exceeded("backendCallsPerRequest", limit, self.calls() + more)

    def expect_records(self, n: int) -> None:
        """Before reading ``n`` records: 413 when that would cross the budget."""
        limit = self.limits.recordsPerRequest
        if self.records + n > limit:
            raise self._exceeded("recordsPerRequest", limit, self.records + n)

    def read(self, n: int) -> None:
        """``n`` records came back from a backend: 413 once the budget is crossed."""
        self.records += n
        limit = self.limits.recordsPerRequest
        if self.records > limit:
            raise self._exceeded("recordsPerRequest", limit, self.records)

    def sent(self, n: int) -> bool:
        """``n`` more bytes of the answer; True once the budget is crossed (the caller decides
        what to answer: a whole answer is refused, a streamed one cut short between entries)."""
        self.bytes += n
        return self.bytes > self.limits.responseBytesPerRequest

    def exhausted(self) -> BudgetExceeded | None:
        """The refusal for one more piece of work (a bulk entry) once a budget is spent."""
        lim = self.limits
        if self.bytes > lim.responseBytesPerRequest:
            return self._exceeded("responseBytesPerRequest", lim.responseBytesPerRequest,
                                  self.bytes)
        if self.records > lim.recordsPerRequest:
            return self._exceeded("recordsPerRequest", lim.recordsPerRequest, self.records)
        if self.calls() >= lim.backendCallsPerRequest:
            return self._exceeded("backendCallsPerRequest", lim.backendCallsPerRequest,
                                  self.calls() + 1)
        return None

    # -- per consumer ------------------------------------------------------------------------

    async def _take(self, key: str, budget: str, rate: float, burst: int, cost: int) -> None:
        try:
            grant = await self.store.take(key, rate, burst, cost)
        except StateUnavailable:
            log.warning("budget_skipped", budget=budget, reason="state store unavailable")
            return
        if not grant.allowed:
            self.refused(budget)
            shown = rate * 60 if budget == "bulkEntriesPerMinute" else rate
            raise _over_rate(budget, self.consumer, shown, grant.retry_after)

    async def take_calls(self, n: int = 1) -> None:
        """Charge ``n`` backend calls to the consumer's calls-per-second bucket before making
        them (calls paid for by :meth:`prepay` are not charged twice)."""
        from_prepaid = min(n, self._prepaid)
        self._prepaid -= from_prepaid
        n -= from_prepaid
        if n > 0:
            lim = self.limits
            await self._take(f"budget:calls:{self.consumer}", "backendCallsPerSecond",
                             lim.backendCallsPerSecond, lim.backendCallsBurst,
                             min(n, lim.backendCallsBurst))

    async def prepay(self, n: int) -> None:
        """Charge ``n`` calls about to be made at once (a scan's walk, known from its count),
        so a consumer out of calls is refused before the walk rather than in its middle."""
        n = min(n, self.limits.backendCallsBurst)  # never more than a full bucket can give
        if n > 0:
            await self.take_calls(n)
            self._prepaid += n

    async def take_bulk_entries(self, n: int) -> None:
        """Charge a bulk call's ``n`` entries to the consumer's entries-per-minute bucket;
        a bulk larger than a whole minute's worth can never fit: 413."""
        per_minute = self.limits.bulkEntriesPerMinute
        if n > per_minute:
            raise self._exceeded("bulkEntriesPerMinute", per_minute, n)
        await self._take(f"budget:bulk:{self.consumer}", "bulkEntriesPerMinute",
                         per_minute / 60, per_minute, n)

    @asynccontextmanager
    async def scan(self) -> AsyncIterator[None]:
        """Hold one of the consumer's scan slots while a query walks a backend's records."""
        limit = self.limits.concurrentScans
        if not self.bulk and self.scans.held(self.consumer) >= limit:
            self.refused("concurrentScans")
        async with self.scans.hold(self.consumer, limit, wait=self.bulk):
            yield

