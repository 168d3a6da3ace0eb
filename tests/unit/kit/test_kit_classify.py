"""The table-driven classifier on its own: each rule of by_table, with a toy backend's table."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import (
    BackendAuthFailed,
    BackendFailure,
    BackendUnavailable,
    Conflict,
    Forbidden,
    GatewayError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from gateway.kit.classify import MAINTENANCE_RETRY_AFTER, Reading, Table, backend_detail, by_table
from gateway.upstream.calls import UpstreamResponse


def read(resp: UpstreamResponse, body: Any, op: str) -> Reading:
    if not isinstance(body, dict):
        return Reading()
    details = [backend_detail(k, v) for k, v in body.get("fields", {}).items()]
    return Reading(body.get("code"), body.get("message"), details)


TOY = Table(backend="Toy", read=read,
            statuses={(400, "version_mismatch"): Conflict, (418, None): Forbidden})


def answer(status: int, body: Any = None, **headers: str) -> UpstreamResponse:
    raw = b"" if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict(headers)), raw)


@pytest.mark.parametrize(("status", "cls"), [
    (400, InvalidRequest), (401, BackendAuthFailed), (403, Forbidden), (404, NotFound),
    (409, Conflict), (413, PayloadTooLarge), (422, InvalidRequest), (429, RateLimited),
    (503, BackendUnavailable), (500, BackendFailure), (502, BackendFailure),
    (418, Forbidden), (451, BackendFailure),
])
def test_statuses_mean_what_every_backend_means(status: int, cls: type[GatewayError]) -> None:
    err = by_table(TOY, "toy", "get", answer(status, {"code": "x", "message": "said"}))
    assert type(err) is cls
    assert err.source is not None and (err.source.name, err.source.status) == ("toy", status)


def test_a_label_rule_wins_over_the_status_alone() -> None:
    err = by_table(TOY, "toy", "update", answer(400, {"code": "version_mismatch"}))
    assert isinstance(err, Conflict) and err.source and err.source.error == "version_mismatch"
    plain = by_table(TOY, "toy", "update", answer(400, {"code": "other"}))
    assert type(plain) is InvalidRequest


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_refusal_on_the_token_call_is_our_credentials(status: int) -> None:
    err = by_table(TOY, "toy", "login", answer(status, {"code": "invalid_grant"}))
    assert isinstance(err, BackendAuthFailed) and err.sent
    assert err.msg == "toy: Toy refused the gateway's credentials (invalid_grant)"


def test_a_5xx_is_the_backend_failing_whatever_it_says() -> None:
    err = by_table(TOY, "toy", "get", answer(500, {"message": "db down, password=x"}))
    assert type(err) is BackendFailure and err.sent
    assert err.msg == "toy: Toy failed with HTTP 500"  # the backend's text is not repeated


def test_503_carries_a_retry_after_even_when_the_backend_named_none() -> None:
    assert by_table(TOY, "toy", "get", answer(503)).retry_after == MAINTENANCE_RETRY_AFTER
    assert by_table(TOY, "toy", "get", answer(503, **{"Retry-After": "7"})).retry_after == 7


def test_429_passes_the_backends_retry_after_on() -> None:
    err = by_table(TOY, "toy", "get", answer(429, **{"Retry-After": "3"}))
    assert isinstance(err, RateLimited) and err.retry_after == 3


def test_a_400_keeps_the_backends_field_problems_or_says_why() -> None:
    err = by_table(TOY, "toy", "create",
                   answer(400, {"message": "bad", "fields": {"name": "required"}}))
    assert [(d.path, d.msg) for d in err.details] == [("name", "required")]
    assert err.msg == "toy: bad"
    bare = by_table(TOY, "toy", "create", answer(400, b"not json"))
    assert [(d.path, d.msg) for d in bare.details] == [("", "Rejected by Toy")]
    assert bare.msg == "toy: HTTP 400"


def test_plain_failures_and_renewed_text_follow_the_table() -> None:
    strict = Table(backend="Toy", read=read, plain_failures=True,
                   renewed_key="backend_refused_renewed_token")
    assert by_table(strict, "toy", "get", answer(451, {"message": "x"})).msg == \
        "toy: Toy failed with HTTP 451"
    renewed = by_table(strict, "toy", "get", answer(401, {"code": "expired"}))
    assert isinstance(renewed, BackendAuthFailed)
    assert renewed.msg == "toy: Toy refused the gateway's renewed token"
