"""What the gateway hands a connector for calling its backend: policies, metrics, redaction."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.observability.metrics import Metrics
from gateway.observability.redact import Redactor

if TYPE_CHECKING:
    from gateway.state.lock import RecordLocks
    from gateway.upstream.breaker import Breaker
    from gateway.upstream.bulkhead import Bulkhead
    from gateway.upstream.shared_tokens import SharedTokens

__all__ = ["CALL_STATS", "CONSUMER", "CallStats", "UpstreamContext", "record_call"]


@dataclass(frozen=True)
class UpstreamContext:
    source: str  # the configured source name, used in metrics, logs and error messages
    org: str | None  # the org whose credentials this connector uses (None: the source's own)
    timeout: float  # seconds for one backend call
    retries: int  # extra attempts, only for calls that are safe to repeat
    metrics: Metrics = field(default_factory=Metrics)
    redactor: Redactor = field(default_factory=Redactor)
    # Shared by every org's connector of the source (one per source, built in gateway/sources.py);
    # None: no breaker / no bound, as for a connector built alone.
    breaker: Breaker | None = None
    bulkhead: Bulkhead | None = None
    # Record locks in the gateway's state store (shared by replicas with Redis), for a backend
    # whose conditional updates are not atomic; None: the connector locks in its own process.
    locks: RecordLocks | None = None
    # This credential's token in the shared state store (state.backend: redis), so replicas log
    # in once between them; None: the connector's TokenCache keeps it in this process only.
    tokens: SharedTokens | None = None


@dataclass
class CallStats:
    """Backend calls made while serving one gateway request (for the access log line)."""

    calls: int = 0
    seconds: float = 0.0


# Set by the request-context middleware for each inbound request; read by the access log.
CALL_STATS: ContextVar[CallStats | None] = ContextVar("gateway_call_stats", default=None)


# The consumer (its configured name) whose request is being served, set by the consumers
# middleware once its key is known; the bulkhead charges its slots to it. None: no consumer
# (readiness checks, the CLI), charged to nobody's share.
CONSUMER: ContextVar[str | None] = ContextVar("gateway_consumer", default=None)


def record_call(seconds: float) -> None:
    """Count one backend attempt against the current inbound request, if any."""
    stats = CALL_STATS.get()
    if stats is not None:
        stats.calls += 1
        stats.seconds += seconds
