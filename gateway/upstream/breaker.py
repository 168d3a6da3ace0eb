"""Circuit breaker per source: consecutive failures open it; one trial call may close it again.

    closed ──(N failed calls in a row)──▶ open ──(openSeconds)──▶ half_open
       ▲                                   ▲                          │ one trial call
       └───────────── trial succeeded ─────┴────── trial failed ──────┘

While open (and, in half-open, for everyone but the trial) a call is refused at once with
503 ``backend_unavailable`` and a ``Retry-After`` of the time left, before any backend attempt,
so a backend that is down costs neither its callers' time nor more load while it recovers.

A *failure* is a logical call (retries included) that ended on a 5xx answer, a timeout, a lost
connection or a body that is not what the backend promised; any other answer (a 404, a 409,
a 429) proves the backend alive. Calls that ended for the gateway's own reasons (a client gone,
an upload the consumer stalled or overfilled, a request deadline shorter than the source's
timeout) say nothing either way; refusals before any call (a 400, a 403, a 413 on the declared
length, a consumer over its bulkhead share) never reach the breaker at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal

from gateway.errors import BackendUnavailable, SourceInfo
from gateway.observability.metrics import Metrics
from gateway.upstream.context import CALL_STATS

__all__ = ["STATE_VALUES", "Breaker", "BreakerCall", "State", "no_breaker"]

State = Literal["closed", "half_open", "open"]
# gateway_breaker_state's values, ordered by severity so an alert can say `> 0`.
STATE_VALUES: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}
# Retry-After for callers refused while a trial call is under way: its answer is near.
TRIAL_RETRY_AFTER = 1.0


class Breaker:
    """One source's breaker, shared by every org's connector of that source."""

    def __init__(
        self,
        source: str,
        *,
        failures: int = 5,
        open_seconds: float = 30.0,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.threshold = failures
        self.open_seconds = open_seconds
        self._clock = clock
        self._failures = 0  # consecutive failed calls while closed
        self._open_until: float | None = None  # None: closed
        self._trial = 0  # calls of the half-open trial under way
        self._trial_owner: object | None = None  # the consumer request the trial serves
        self._opened = None if metrics is None else metrics.breaker_opened.labels(source)
        if metrics is not None:
            metrics.track(metrics.breaker_state.labels(source), lambda: STATE_VALUES[self.state])

    @property
    def state(self) -> State:
        if self._open_until is None:
            return "closed"
        if self._trial or self._clock() >= self._open_until:
            return "half_open"
        return "open"

    def retry_after(self) -> float:
        """Seconds until a call may be tried again (0 when closed)."""
        if self._open_until is None:
            return 0.0
        left = self._open_until - self._clock()
        return left if left > 0 else TRIAL_RETRY_AFTER

    def call(self) -> BreakerCall:
        """Admit one logical call (raises 503 while open); record its outcome on exit."""
        return BreakerCall(self, self._admit())

    def _admit(self) -> bool:
        """True when this call is (part of) the half-open trial.

        The trial is one consumer request, not one backend call: a query that sends its page
        and its count at once must not have one of them refused by its own trial."""
        if self._open_until is None:
            return False
        now = self._clock()
        if now < self._open_until:
            raise self._refusal(self._open_until - now)
        owner = CALL_STATS.get()
        if self._trial and not (owner is not None and owner is self._trial_owner):
            raise self._refusal(TRIAL_RETRY_AFTER)
        self._trial += 1
        self._trial_owner = owner
        return True

    def _refusal(self, wait: float) -> BackendUnavailable:
        return BackendUnavailable(
            "circuit_open", {"source": self.source, "seconds": math.ceil(wait)},
            sent=False, retry_after=wait, source=SourceInfo(self.source, None, "circuit_open"),
        )

    def record(self, trial: bool, failed: bool | None) -> None:
        """One admitted call ended: ``failed`` True/False, or None when it proved nothing."""
        if trial:
            self._trial -= 1
            if not self._trial:
                self._trial_owner = None
        if failed is None:
            return
        if not failed:
            self._failures = 0
            if trial:
                self._open_until = None
            return
        if trial:
            self._open()
        elif self._open_until is None:
            self._failures += 1
            if self._failures >= self.threshold:
                self._open()

    def _open(self) -> None:
        self._failures = 0
        self._open_until = self._clock() + self.open_seconds
        if self._opened is not None:
            self._opened.inc()


class BreakerCall:
    """``with breaker.call() as c:`` … set ``c.failed`` as the call learns how the backend did."""

    __slots__ = ("_breaker", "_trial", "failed")

    def __init__(self, breaker: Breaker | None, trial: bool) -> None:
        self._breaker = breaker
        self._trial = trial
        self.failed: bool | None = None

    def __enter__(self) -> BreakerCall:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._breaker is not None:
            self._breaker.record(self._trial, self.failed)


def no_breaker() -> BreakerCall:
    """A call outside any breaker (an Upstream built without one, as in unit tests)."""
    return BreakerCall(None, False)
