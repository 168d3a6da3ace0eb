"""Retry decisions, Retry-After parsing and transport error mapping."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest

from gateway.errors import BackendFailure, BackendTimeout
from gateway.upstream.errors import map_errors
from gateway.upstream.retry import RetryPolicy, parse_retry_after


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("3") == 3
    when = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 < parse_retry_after(format_datetime(when, usegmt=True)) <= 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_statuses_retried_only_for_reads_and_never_501():
    p = RetryPolicy()
    assert p.may_retry_status(503, safe=True) and p.may_retry_status(429, safe=True)
    assert not p.may_retry_status(501, safe=True)
    assert not p.may_retry_status(500, safe=False)
    assert not p.may_retry_status(404, safe=True)


def test_unsent_calls_retry_whatever_the_method():
    p = RetryPolicy()
    assert p.may_retry_error(BackendFailure(sent=False), safe=False)
    assert not p.may_retry_error(BackendFailure(sent=None), safe=False)
    assert p.may_retry_error(BackendTimeout(sent=None), safe=True)


def test_backoff_is_jittered_and_capped_and_long_retry_after_gives_up():
    p = RetryPolicy(base=1, cap=4, retry_after_cap=10)
    assert all(0 <= p.delay(10) <= 4 for _ in range(100))
    assert p.delay(0, retry_after=5) == 5
    assert p.delay(0, retry_after=11) is None


class _Key:
    ssl = None
    host = "h"
    port = 1


@pytest.mark.parametrize(
    ("exc", "cls", "sent"),
    [
        (aiohttp.ClientConnectorError(_Key(), OSError(111, "refused")), BackendFailure, False),
        (aiohttp.ConnectionTimeoutError(), BackendTimeout, False),
        (aiohttp.ServerTimeoutError(), BackendTimeout, None),
        (aiohttp.ServerDisconnectedError(), BackendFailure, None),
        (TimeoutError(), BackendTimeout, None),
    ],
)
def test_map_errors(exc, cls, sent):
    with pytest.raises(BackendFailure) as info, map_errors("crm"):
        raise exc
    assert type(info.value) is cls and info.value.sent is sent
    assert info.value.source.name == "crm"
