"""Circuit breaker: opens after N failed calls in a row, one half-open trial, metrics."""

import pytest

from gateway.errors import BackendUnavailable
from gateway.observability.metrics import Metrics
from gateway.upstream.breaker import Breaker


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make(failures=3, open_seconds=10.0):
    clock, metrics = Clock(), Metrics()
    return Breaker("crm", failures=failures, open_seconds=open_seconds, metrics=metrics,
                   clock=clock), clock, metrics


def fail(breaker, failed=True):
    with breaker.call() as call:
        call.failed = failed


def sample(metrics, name):
    return metrics.registry.get_sample_value(name, {"source": "crm"})


def test_opens_after_n_failures_in_a_row_and_refuses_with_the_time_left():
    b, clock, metrics = make()
    fail(b), fail(b)
    fail(b, failed=False)  # an answer (even a 404) proves the backend alive: the count restarts
    fail(b), fail(b)
    assert b.state == "closed" and sample(metrics, "gateway_breaker_state") == 0
    fail(b)
    assert b.state == "open" and sample(metrics, "gateway_breaker_state") == 2
    assert sample(metrics, "gateway_breaker_opened_total") == 1
    clock.now += 4
    with pytest.raises(BackendUnavailable) as info:
        b.call()
    assert info.value.status == 503 and info.value.retry_after == pytest.approx(6)
    assert info.value.sent is False


def test_half_open_admits_one_trial_and_its_success_closes():
    b, clock, metrics = make(failures=1)
    fail(b)
    clock.now += 10
    assert b.state == "half_open"
    trial = b.call()
    assert sample(metrics, "gateway_breaker_state") == 1
    with pytest.raises(BackendUnavailable) as info:  # everyone else still waits
        b.call()
    assert info.value.retry_after == 1
    with trial:
        trial.failed = False
    assert b.state == "closed"
    fail(b, failed=False)


def test_a_failed_trial_reopens_for_another_full_period():
    b, clock, metrics = make(failures=1)
    fail(b)
    clock.now += 10
    fail(b)  # the trial
    assert b.state == "open" and b.retry_after() == pytest.approx(10)
    assert sample(metrics, "gateway_breaker_opened_total") == 2


def test_a_trial_that_proved_nothing_lets_the_next_call_try():
    b, clock, _ = make(failures=1)
    fail(b)
    clock.now += 10
    with b.call():  # e.g. the consumer went away: no verdict
        pass
    assert b.state == "half_open"
    fail(b, failed=False)
    assert b.state == "closed"


def test_calls_admitted_before_it_opened_do_not_extend_or_close_it():
    b, _clock, _ = make(failures=2)
    early = b.call()
    fail(b), fail(b)
    until = b.retry_after()
    with early:
        early.failed = False
    assert b.state == "open" and b.retry_after() == until


def test_the_half_open_trial_is_one_consumer_request_with_all_its_calls():
    from gateway.upstream.context import CALL_STATS, CallStats

    b, clock, _ = make(failures=1)
    fail(b)
    clock.now += 10
    token = CALL_STATS.set(CallStats())  # the trial request: a query's page and count at once
    try:
        page, count = b.call(), b.call()
    finally:
        CALL_STATS.reset(token)
    other = CALL_STATS.set(CallStats())  # another consumer request still waits
    try:
        with pytest.raises(BackendUnavailable):
            b.call()
    finally:
        CALL_STATS.reset(other)
    with page:
        page.failed = False
    with count:
        count.failed = False
    assert b.state == "closed"
