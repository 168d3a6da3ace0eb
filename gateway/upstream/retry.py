"""What may be repeated (never sent, or a read), full-jitter backoff, Retry-After ≤ deadline."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from gateway.errors import BackendFailure, GatewayError
from gateway.upstream import deadline

__all__ = ["RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

# A read may be repeated after these answers: the 429, 502, 503, 504, and 500, because
# the backends we front answer 500 for passing trouble too (a SugarCRM database deadlock, a Data
# Service SQL timeout) and a read costs nothing to repeat; the breaker sees a 500 that does not
# pass. The rest of 5xx (501 not implemented, 505 version, 507 storage, 508 loop, 511 proxy
# login) do not change by asking again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:  # RFC 9110 says integer seconds; some proxies send fractions, which we accept too
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    wall = time.time() if now is None else now
    return max(0.0, when.timestamp() - wall)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed attempt may be repeated and how long to wait first.

    ``safe`` marks a call whose repetition cannot change the backend twice (a read, whatever its
    HTTP method). Writes are repeated only when the failure proves they never left.
    """

    base: float = 0.2  # first backoff ceiling, doubled per attempt
    cap: float = 5.0  # largest backoff
    retry_after_cap: float = 30.0  # a longer Retry-After is not waited for: the error goes out

    def may_retry_error(self, exc: BackendFailure, *, safe: bool) -> bool:
        """A transport failure (already mapped by ``map_errors``)."""
        if exc.sent is False:
            return True
        return safe

    def may_retry_status(self, status: int, *, safe: bool) -> bool:
        return safe and status in RETRY_STATUSES

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds before attempt ``attempt + 1`` (attempt counts from 0); None: do not retry."""
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_cap else None
        # Full jitter (AWS architecture blog): spreads many clients' retries apart.
        return random.uniform(0.0, min(self.cap, self.base * (2**attempt)))

    def pause(self, attempt: int, retry_after: float | None, err: GatewayError) -> float:
        """Seconds to wait before repeating a call that failed with ``err``; raises ``err``
        when the wait does not fit in the request's deadline (or exceeds the cap).

        A backend's ``Retry-After`` we cannot wait out goes to the consumer at once, so it can
        wait on its own terms (429 or 503 with that ``Retry-After``) instead of timing out on us.
        """
        wait = self.delay(attempt, retry_after)
        left = deadline.remaining()
        if wait is None or (left is not None and wait >= left):
            if retry_after is not None and err.retry_after is None:
                err.retry_after = retry_after
            raise err
        return wait
