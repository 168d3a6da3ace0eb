"""Prometheus metric objects and their label sets, one registry per app (no global state).

Under ``gateway serve --workers N`` each worker is a process of its own, so ``/metrics`` must
add up what all of them did: the workers run prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``gateway/workers.py``), each writing its values to
memory-mapped files there, and whichever worker answers a scrape reads every worker's files:

* counters and histograms are summed over workers (dead ones included: a count never drops);
* ``gateway_bulkhead_in_flight`` is summed over live workers (each has its own slots);
* ``gateway_breaker_state`` is the worst state over live workers (each worker has its own
  breaker; 2 means at least one worker refuses calls to that source);
* ``gateway_worker_requests{pid}`` is what each live worker answered, to see how the kernel
  spreads connections over them.

Those two gauges are computed from live objects (``set_function`` in one process). Multiprocess
mode only sees values written to its files, so there they are sampled: by every worker each
:data:`SAMPLE_SECONDS`, and by the worker answering a scrape just before it answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = ["SAMPLE_SECONDS", "Metrics"]

# How stale another worker's gauges may be in a scrape (counters are always exact).
SAMPLE_SECONDS = 1.0
_READS = 5  # reads of the workers' files per scrape before the scrape fails
log = structlog.get_logger("gateway.metrics")

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Label sets are bounded (route patterns, methods, statuses, sources, operations); the cap only
# keeps a surprise (say, statuses from a misbehaving backend) from growing the cache unbounded.
_CHILDREN_MAX = 4096


class Metrics:
    """The gateway's metrics; ``registry`` is what ``/metrics`` renders.

    ``request`` and ``backend_call`` record one observation each. They keep the labelled
    children they used, since ``labels()`` validates and locks on every call and both run on
    every request.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *,
                 multiprocess_dir: str | None = None) -> None:
        """``multiprocess_dir``: this process is one of several workers whose values are kept
        there (prometheus-client must have been imported with ``PROMETHEUS_MULTIPROC_DIR``
        set to it); ``registry`` then renders the sum over workers."""
        self.multiprocess = multiprocess_dir is not None
        # The metric objects' own registry; what /metrics renders is ``self.registry``.
        own = registry or CollectorRegistry()
        self.registry = own
        if multiprocess_dir is not None:
            self.registry = CollectorRegistry()
            self.registry.register(_Sampled(self, multiprocess_dir))
        self._tracked: dict[Gauge, Callable[[], float]] = {}
        self.requests = Counter(
            "gateway_requests_total", "Requests answered by the gateway",
            ["route", "method", "status"], registry=own,
        )
        self.request_duration = Histogram(
            "gateway_request_duration_seconds", "Time to answer a request",
            ["route", "method"], buckets=BUCKETS, registry=own,
        )
        self.backend_requests = Counter(
            "gateway_backend_requests_total", "Calls made to backends, each attempt counted",
            ["source", "operation", "status"], registry=own,
        )
        self.backend_duration = Histogram(
            "gateway_backend_request_duration_seconds", "Time of one backend call",
            ["source"], buckets=BUCKETS, registry=own,
        )
        self.token_fetches = Counter(
            "gateway_backend_token_fetches_total", "Backend logins and token refreshes",
            ["source", "kind", "outcome"], registry=own,
        )
        self.breaker_state = Gauge(
            "gateway_breaker_state", "Circuit breaker per source: 0 closed, 1 half-open, 2 open",
            ["source"], registry=own, multiprocess_mode="livemax",
        )
        self.breaker_opened = Counter(
            "gateway_breaker_opened_total", "Times a source's circuit breaker opened",
            ["source"], registry=own,
        )
        self.bulkhead_in_flight = Gauge(
            "gateway_bulkhead_in_flight", "Backend calls in flight per source (bulkhead slots)",
            ["source"], registry=own, multiprocess_mode="livesum",
        )
        self.bulkhead_rejected = Counter(
            "gateway_bulkhead_rejected_total",
            "Calls refused with 503 because a source's bulkhead stayed full",
            ["source"], registry=own,
        )
        self.ids_refused = Counter(
            "gateway_refused_ids_total",
            "Record ids refused before any backend call for not having the source's id shape",
            ["source"], registry=own,
        )
        self.budget_refusals = Counter(
            "gateway_budget_refusals_total",
            "Requests refused or stopped by a budget (gateway/budgets.py), by budget name",
            ["budget"], registry=own,
        )
        # The read cache (gateway/cache.py), per source with a cache.
        self.cache_hits = Counter(
            "gateway_cache_hits_total", "Reads answered from the read cache", ["source"],
            registry=own,
        )
        self.cache_misses = Counter(
            "gateway_cache_misses_total",
            "Reads of a cached source and entity answered by the backend (not in the cache, "
            "expired, asked with Cache-Control: no-cache, or the cache bypassed)",
            ["source"], registry=own,
        )
        self.cache_invalidations = Counter(
            "gateway_cache_invalidations_total",
            "Times a source's cached answers were dropped for a write through the gateway: "
            "origin local (written here) or remote (another process, by pub/sub)",
            ["source", "origin"], registry=own,
        )
        self.cache_bytes = Gauge(
            "gateway_cache_bytes", "Bytes the read cache holds (answers and their keys)",
            ["source"], registry=own, multiprocess_mode="livesum",
        )
        # One sample per live worker (prometheus-client adds the pid label); none in one process.
        self.worker_requests = None if multiprocess_dir is None else Gauge(
            "gateway_worker_requests", "Requests answered by each live worker (label pid)",
            registry=own, multiprocess_mode="liveall",
        )
        self._children: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def track(self, gauge: Gauge, value: Callable[[], float]) -> None:
        """``gauge`` (a labelled child) reads ``value()``: at each scrape in one process,
        sampled into the shared files under workers."""
        if self.multiprocess:
            self._tracked[gauge] = value  # the latest function wins, as with set_function
            gauge.set(value())
        else:
            gauge.set_function(value)

    def sample(self) -> None:
        """Write the tracked gauges' current values (multiprocess mode; a no-op otherwise)."""
        for gauge, value in self._tracked.items():
            gauge.set(value())

    async def sample_forever(self, seconds: float = SAMPLE_SECONDS) -> None:
        """Keep the tracked gauges fresh for the other workers' scrapes; cancel to stop."""
        while True:
            self.sample()
            await asyncio.sleep(seconds)

    def _pair(self, key: tuple[Any, ...]) -> tuple[Any, Any]:
        kind, a, b, status = key
        if len(self._children) >= _CHILDREN_MAX:
            self._children.clear()
        if kind == "request":
            pair = (self.requests.labels(a, b, status), self.request_duration.labels(a, b))
        else:
            pair = (self.backend_requests.labels(a, b, status), self.backend_duration.labels(a))
        self._children[key] = pair
        return pair

    def budget_refused(self, budget: str) -> None:
        self.budget_refusals.labels(budget).inc()

    def id_refused(self, source: str) -> None:
        self.ids_refused.labels(source).inc()

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request: counted by route, method and status, timed by route/method."""
        key = ("request", route, method, str(status))
        pair = self._children.get(key) or self._pair(key)
        pair[0].inc()
        pair[1].observe(seconds)
        if self.worker_requests is not None:
            self.worker_requests.inc()

    def backend_call(self, source: str, operation: str, status: int | str, seconds: float) -> None:
        key = ("backend", source, operation, str(status))
        pair = self._children.get(key) or self._pair(key)
        pair[0].inc()
        pair[1].observe(seconds)


class _Sampled(Collector):
    """Every worker's files, read after this worker's tracked gauges were sampled."""

    def __init__(self, metrics: Metrics, path: str) -> None:
        self._metrics = metrics
        self._files = MultiProcessCollector(None, path)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        self._metrics.sample()
        # Another worker may be growing its file (a new label child) or its file may be removed
        # (a worker that ended) while this one reads: what was read is then cut or gone, and
        # prometheus-client raises. Read again; a scrape answering 500 would hide every worker.
        for attempt in range(_READS):
            try:
                return list(self._files.collect())  # type: ignore[no-untyped-call]
            except Exception as exc:
                if attempt == _READS - 1:
                    raise
                log.info("metrics_files_reread", error=repr(exc))
        return []  # not reached: the last attempt returns or raises
