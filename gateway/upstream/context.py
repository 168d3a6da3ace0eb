"""What the gateway hands a connector for calling its backend: names, policies, metrics, redaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.observability.metrics import Metrics
from gateway.observability.redact import Redactor

__all__ = ["UpstreamContext"]


@dataclass(frozen=True)
class UpstreamContext:
    source: str  # the configured source name, used in metrics, logs and error messages
    org: str | None  # the org whose credentials this connector uses (None: the source's own)
    timeout: float  # seconds for one backend call
    retries: int  # extra attempts, only for calls that are safe to repeat
    metrics: Metrics = field(default_factory=Metrics)
    redactor: Redactor = field(default_factory=Redactor)
