"""Prometheus metric objects and their label sets, one registry per app (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics"]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The gateway's metrics; ``registry`` is what ``/metrics`` renders."""

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

    def backend_call(self, source: str, operation: str, status: int | str, seconds: float) -> None:
        self.backend_requests.labels(source, operation, str(status)).inc()
        self.backend_duration.labels(source).observe(seconds)
