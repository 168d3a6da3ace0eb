"""The request deadline: nesting never extends it; retry waits that do not fit raise at once."""

import pytest

from gateway.errors import BackendFailure, BackendUnavailable, RateLimited
from gateway.upstream import deadline
from gateway.upstream.retry import RETRY_STATUSES, RetryPolicy


def test_no_deadline_clips_nothing():
    assert deadline.remaining() is None and deadline.clip(7) == 7


def test_an_inner_deadline_never_outlives_the_outer_one():
    outer = deadline.start(1.0)
    try:
        inner = deadline.start(60.0)
        assert deadline.remaining() <= 1.0
        deadline.end(inner)
        assert 0 < deadline.clip(30) <= 1.0
    finally:
        deadline.end(outer)
    assert deadline.remaining() is None


def test_expired_is_a_504_never_sent():
    err = deadline.expired("crm")
    assert (err.status, err.error, err.sent) == (504, "backend_timeout", False)


def test_retried_statuses_follow_the_issue_plus_500():
    assert RETRY_STATUSES == {429, 500, 502, 503, 504}
    assert not RetryPolicy().may_retry_status(507, safe=True)


def test_a_retry_after_that_fits_is_waited_and_one_that_does_not_is_passed_on():
    policy = RetryPolicy()
    token = deadline.start(2.0)
    try:
        assert policy.pause(0, 1.0, RateLimited()) == 1.0
        err = RateLimited("busy")
        with pytest.raises(RateLimited) as info:
            policy.pause(0, 30.0, err)
        assert info.value.retry_after == 30.0  # the consumer waits on its own terms
        with pytest.raises(BackendUnavailable) as info2:
            policy.pause(0, 5.0, BackendUnavailable("maintenance"))
        assert info2.value.retry_after == 5.0
    finally:
        deadline.end(token)


def test_a_backoff_past_the_deadline_gives_up_with_the_last_error():
    policy = RetryPolicy(base=10, cap=10)
    token = deadline.start(0.001)
    try:
        err = BackendFailure("HTTP 502")
        with pytest.raises(BackendFailure) as info:
            for attempt in range(50):  # full jitter: some draw is longer than 1 ms
                policy.pause(attempt, None, err)
        assert info.value is err
    finally:
        deadline.end(token)
