"""The consumer request's deadline in a contextvar; every backend wait is clipped to it.

The request-context middleware starts it from ``server.requestTimeout``; the upstream policies
read it: each call's timeout is ``min(source timeout, time left)``, and backoff, Retry-After,
bulkhead and token waits that do not fit end the call at once instead of outliving the client.
Code running without a deadline (the CLI, unit tests, background renewals) is not clipped.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

from gateway.errors import BackendTimeout, SourceInfo

__all__ = ["DEADLINE", "clip", "end", "expired", "remaining", "start"]

# Absolute time on the monotonic clock by which the consumer must have its answer.
DEADLINE: ContextVar[float | None] = ContextVar("gateway_deadline", default=None)


def start(seconds: float) -> Token[float | None]:
    """Set the deadline ``seconds`` from now; never later than one already running (a bulk
    entry served through the middlewares again keeps its bulk call's deadline)."""
    when = time.monotonic() + seconds
    current = DEADLINE.get()
    return DEADLINE.set(when if current is None else min(current, when))


def end(token: Token[float | None]) -> None:
    """Restore the deadline that was in force before :func:`start`."""
    DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left (possibly ≤ 0), or None when no deadline is running."""
    when = DEADLINE.get()
    return None if when is None else when - time.monotonic()


def clip(seconds: float) -> float:
    """``seconds``, or less when the deadline comes first (never below zero)."""
    left = remaining()
    return seconds if left is None else max(0.0, min(seconds, left))


def expired(source: str) -> BackendTimeout:
    """The error for a call that ran out of the consumer's time before it could finish."""
    return BackendTimeout(
        "deadline_passed", {"source": source},
        sent=False, source=SourceInfo(source, None, "deadline"),
    )
