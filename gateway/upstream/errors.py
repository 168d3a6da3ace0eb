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
_TABLE: tuple[tuple[type[BaseException], type[BackendFailure], bool | None, str], ...] = (
    (aiohttp.ConnectionTimeoutError, BackendTimeout, False, "connect_timeout"),
    (aiohttp.ClientConnectorError, BackendFailure, False, "unreachable"),
    (aiohttp.InvalidURL, BackendFailure, False, "invalid_url"),
    (aiohttp.ServerTimeoutError, BackendTimeout, None, "timeout"),
    (aiohttp.ServerDisconnectedError, BackendFailure, None, "disconnected"),
    (aiohttp.ClientPayloadError, BackendFailure, True, "truncated_body"),
    (aiohttp.ClientError, BackendFailure, None, "transport_error"),
    (TimeoutError, BackendTimeout, None, "timeout"),
)

_MESSAGES = {
    "connect_timeout": "{source}: could not connect in time",
    "unreachable": "{source}: backend unreachable",
    "invalid_url": "{source}: invalid backend URL",
    "timeout": "{source}: backend did not answer in time",
    "disconnected": "{source}: backend closed the connection before answering",
    "truncated_body": "{source}: backend answer was cut off",
    "transport_error": "{source}: backend call failed",
}


@contextmanager
def map_errors(source: str) -> Iterator[None]:
    """Translate aiohttp/asyncio failures raised inside the block into ``BackendFailure``s."""
    try:
        yield
    except BackendFailure:
        raise
    except (TimeoutError, aiohttp.ClientError) as exc:
        for exc_type, gw_type, sent, label in _TABLE:
            if isinstance(exc, exc_type):
                raise gw_type(
                    _MESSAGES[label].format(source=source),
                    sent=sent,
                    source=SourceInfo(source, None, label),
                ) from exc
        raise  # unreachable: the table ends with the two base classes caught above
