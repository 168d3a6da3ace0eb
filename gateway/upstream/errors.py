"""Transport failures → gateway errors, most specific class first, with "was it sent?" recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from gateway.errors import BackendFailure, BackendTimeout, SourceInfo

__all__ = ["map_errors"]

# Order matters: the first matching class wins, so subclasses come before their bases
# (ConnectionTimeoutError is a ServerTimeoutError; ClientConnectorError is a ClientOSError).
# ``sent``: False = provably never reached the backend (any call may be repeated);
# None = may have arrived (only reads may be repeated); True = the backend answered.
# Then the label (SourceInfo.error) and the message key.
_TABLE: tuple[tuple[type[BaseException], type[BackendFailure], bool | None, str, str], ...] = (
    (aiohttp.ConnectionTimeoutError, BackendTimeout, False, "connect_timeout",
     "transport_connect_timeout"),
    (aiohttp.ClientConnectorError, BackendFailure, False, "unreachable", "transport_unreachable"),
    (aiohttp.InvalidURL, BackendFailure, False, "invalid_url", "transport_invalid_url"),
    (aiohttp.ServerTimeoutError, BackendTimeout, None, "timeout", "transport_timeout"),
    (aiohttp.ServerDisconnectedError, BackendFailure, None, "disconnected",
     "transport_disconnected"),
    (aiohttp.ClientPayloadError, BackendFailure, True, "truncated_body", "transport_truncated"),
    (aiohttp.ClientError, BackendFailure, None, "transport_error", "transport_failed"),
    (TimeoutError, BackendTimeout, None, "timeout", "transport_timeout"),
)



@contextmanager
def map_errors(source: str) -> Iterator[None]:
    """Translate aiohttp/asyncio failures raised inside the block into ``BackendFailure``s."""
    try:
        yield
    except BackendFailure:
        raise
    except (TimeoutError, aiohttp.ClientError) as exc:
        for exc_type, gw_type, sent, label, key in _TABLE:
            if isinstance(exc, exc_type):
                raise gw_type(
                    key, {"source": source}, sent=sent, source=SourceInfo(source, None, label)
                ) from exc
        raise  # unreachable: the table ends with the two base classes caught above
