"""Sugar's error answers → the gateway errors a user sees."""

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from connectors.sugarcrm.errors import MAINTENANCE_RETRY_AFTER, classify
from gateway import errors as e
from gateway.upstream.client import UpstreamResponse


def resp(status, body=None, headers=None, raw=None):
    data = raw if raw is not None else (orjson.dumps(body) if body is not None else b"")
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict(headers or {})), data)


@pytest.mark.parametrize(
    ("op", "status", "label", "cls"),
    [
        ("login", 400, "invalid_grant", e.BackendAuthFailed),
        ("login", 400, "invalid_client", e.BackendAuthFailed),
        ("login", 401, "need_login", e.BackendAuthFailed),
        ("login", 422, "invalid_parameter", e.BackendAuthFailed),  # unknown platform
        ("refresh", 400, "invalid_grant", e.BackendAuthFailed),
        ("query", 401, "invalid_grant", e.BackendAuthFailed),
        ("get", 403, "not_authorized", e.Forbidden),
        ("get", 404, "not_found", e.NotFound),
        ("query", 404, "no_method", e.NotFound),
        ("update", 409, "edit_conflict", e.Conflict),
        ("create", 413, "request_too_large", e.PayloadTooLarge),
        ("query", 422, "invalid_parameter", e.InvalidRequest),
        ("create", 422, "missing_parameter", e.InvalidRequest),
        ("query", 429, None, e.RateLimited),
        ("query", 503, "maintenance", e.BackendUnavailable),
        ("query", 500, "fatal_error", e.BackendFailure),
        ("query", 412, "metadata_out_of_date", e.BackendFailure),
        ("query", 301, "incorrect_version", e.BackendFailure),
    ],
)
def test_table(op, status, label, cls):
    body = {"error": label, "error_message": "text"} if label else None
    err = classify("crm", op, resp(status, body))
    assert type(err) is cls
    assert err.source.name == "crm" and err.source.status == status
    assert err.source.error == label


def test_validation_message_goes_to_details():
    err = classify("crm", "create", resp(422, {"error": "invalid_parameter",
                                               "error_message": "Record already exists: 1"}))
    assert err.status == 400
    assert err.details[0].msg == "Record already exists: 1"


def test_retry_after_carried_on_429_and_503():
    assert classify("crm", "query", resp(429, headers={"Retry-After": "7"})).retry_after == 7
    err = classify("crm", "query", resp(503, {"error": "maintenance"}))
    assert err.retry_after == MAINTENANCE_RETRY_AFTER


def test_non_json_5xx_is_backend_error():
    err = classify("crm", "query", resp(502, raw=b"<html>bad gateway</html>"))
    assert type(err) is e.BackendFailure and err.status == 502 and err.source.error is None
