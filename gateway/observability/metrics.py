"""Prometheus metric objects and their label sets, one registry per app (no global state)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]

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

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "gateway_requests_total", "Requests answered by the gateway",
            ["route", "method", "status"], registry=self.registry,
        )
        self.request_duration = Histogram(
            "gateway_request_duration_seconds", "Time to answer a request",
            ["route", "method"], buckets=BUCKETS, registry=self.registry,
        )
        self.backend_requests = Counter(
            "gateway_backend_requests_total", "Calls made to backends, each attempt counted",
            ["source", "operation", "status"], registry=self.registry,
        )
        self.backend_duration = Histogram(
            "gateway_backend_request_duration_seconds", "Time of one backend call",
            ["source"], buckets=BUCKETS, registry=self.registry,
        )
        self.token_fetches = Counter(
            "gateway_backend_token_fetches_total", "Backend logins and token refreshes",
            ["source", "kind", "outcome"], registry=self.registry,
        )
        self.breaker_state = Gauge(
            "gateway_breaker_state", "Circuit breaker per source: 0 closed, 1 half-open, 2 open",
            ["source"], registry=self.registry,
        )
        self.breaker_opened = Counter(
            "gateway_breaker_opened_total", "Times a source's circuit breaker opened",
            ["source"], registry=self.registry,
        )
        self.bulkhead_in_flight = Gauge(
            "gateway_bulkhead_in_flight", "Backend calls in flight per source (bulkhead slots)",
            ["source"], registry=self.registry,
        )
        self.bulkhead_rejected = Counter(
            "gateway_bulkhead_rejected_total",
            "Calls refused with 503 because a source's bulkhead stayed full",
            ["source"], registry=self.registry,
        )
        self.ids_refused = Counter(
            "gateway_refused_ids_total",
            "Record ids refused before any backend call for not having the source's id shape",
            ["source"], registry=self.registry,
        )
        self.budget_refusals = Counter(
            "gateway_budget_refusals_total",
            "Requests refused or stopped by a budget (gateway/budgets.py), by budget name",
            ["budget"], registry=self.registry,
        )
        self._children: dict[tuple[Any, ...], tuple[Any, Any]] = {}

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

    def backend_call(self, source: str, operation: str, status: int | str, seconds: float) -> None:
        key = ("backend", source, operation, str(status))
        pair = self._children.get(key) or self._pair(key)
        pair[0].inc()
        pair[1].observe(seconds)
