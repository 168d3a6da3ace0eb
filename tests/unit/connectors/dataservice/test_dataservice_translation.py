"""Data Service filterGroup translation, push rules, batch alignment and the error table."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from connectors.dataservice.batch import outcomes
from connectors.dataservice.client import envelope
from connectors.dataservice.errors import BatchRejected, classify
from connectors.dataservice.metadata import entity_from_metadata
from connectors.dataservice.query import pushable, sort_options, to_filter_group
from gateway.connector import FieldInfo
from gateway.errors import (
    BackendAuthFailed,
    BackendFailure,
    BackendUnavailable,
    Forbidden,
    InvalidRequest,
    NotFound,
)
from gateway.query.model import Condition, Group, OrderKey
from gateway.upstream.client import UpstreamResponse

GUID = "3FA85F64-5717-4562-B3FC-2C963F66AFA6"
FIELDS = {
    "id": FieldInfo("id"),
    "Name": FieldInfo("Name"),
    "Nations": FieldInfo("Nations", "integer"),
    "Height": FieldInfo("Height", "number"),
    "OpeningDate": FieldInfo("OpeningDate", "date"),
    "LastSeen": FieldInfo("LastSeen", "datetime"),
    "Active": FieldInfo("Active", "boolean"),
    # The service's own kinds travel on the described fields.
    "Sport": FieldInfo("Sport", "integer", kind="choice"),
    "Logo": FieldInfo("Logo", "file", sortable=False, kind="opaque"),
}


def group(*conds: Condition):
    return to_filter_group((Group(conds),), FIELDS)


def can(field: str, op: str, value=None) -> bool:
    return pushable(Condition(field, op, value), FIELDS[field])


def test_an_and_group_is_one_group_of_query_filters_with_string_values():
    assert group(Condition("Name", "==", "Tokyo"), Condition("Nations", ">=", 200)) == {
        "logicalOperator": 0,
        "queryFilters": [{"fieldName": "Name", "operator": "=", "value": "Tokyo"},
                         {"fieldName": "Nations", "operator": ">=", "value": "200"}]}


def test_or_of_and_groups_is_one_nested_filter_group():
    flt = (Group((Condition("Name", "startsWith", "To"), Condition("Nations", "<", 5))),
           Group((Condition("Name", "isNull"),)))
    got = to_filter_group(flt, FIELDS)
    assert got is not None and got["logicalOperator"] == 1 and got["queryFilters"] == []
    assert [g["logicalOperator"] for g in got["filterGroups"]] == [0, 0]
    assert got["filterGroups"][0]["queryFilters"][0] == {
        "fieldName": "Name", "operator": "startswith", "value": "To"}
    assert got["filterGroups"][1]["queryFilters"] == [
        {"fieldName": "Name", "operator": "=", "value": ""}]


def test_an_empty_group_or_no_group_means_no_filter():
    assert to_filter_group((), FIELDS) is None
    assert to_filter_group((Group(()), Group((Condition("Name", "==", "x"),))), FIELDS) is None


def test_not_equal_and_not_in_keep_nulls_through_a_nested_or():
    got = group(Condition("Name", "!=", "Tokyo"), Condition("Nations", "notIn", (1, "2")))
    assert got["queryFilters"] == []
    ne, nin = got["filterGroups"]
    assert ne == {"logicalOperator": 1, "queryFilters": [
        {"fieldName": "Name", "operator": "!=", "value": "Tokyo"},
        {"fieldName": "Name", "operator": "=", "value": ""}]}
    assert nin["queryFilters"][0] == {"fieldName": "Nations", "operator": "not in",
                                      "valueList": ["1", "2"]}
    assert nin["queryFilters"][1]["value"] == ""


def test_in_sends_a_value_list_and_null_checks_an_empty_value():
    got = group(Condition("Name", "in", ("a", "b")), Condition("Logo", "isNotNull"))
    assert got["queryFilters"] == [
        {"fieldName": "Name", "operator": "in", "valueList": ["a", "b"]},
        {"fieldName": "Logo", "operator": "!=", "value": ""}]


def test_id_is_sent_as_the_key_field_with_a_canonical_guid():
    got = group(Condition("id", "==", GUID))
    assert got["queryFilters"] == [{"fieldName": "Id", "operator": "=", "value": GUID.lower()}]
    assert sort_options((OrderKey("Name", True), OrderKey("id"))) == [
        {"fieldName": "Name", "isDescending": True}, {"fieldName": "Id", "isDescending": False}]


@pytest.mark.parametrize(("op", "wire"), [
    ("==", [(">=", "2024-07-26T00:00:00Z"), ("<", "2024-07-27T00:00:00Z")]),
    (">", [(">=", "2024-07-27T00:00:00Z")]),
    (">=", [(">=", "2024-07-26T00:00:00Z")]),
    ("<", [("<", "2024-07-26T00:00:00Z")]),
    ("<=", [("<", "2024-07-27T00:00:00Z")]),
])
def test_a_date_only_value_on_a_datetime_field_is_that_utc_day(op, wire):
    got = group(Condition("LastSeen", op, "2024-07-26"))
    assert [(f["operator"], f["value"]) for f in got["queryFilters"]] == wire


def test_full_datetimes_go_as_utc_instants():
    got = group(Condition("LastSeen", ">", "2024-07-26T10:00:00+02:00"))
    assert got["queryFilters"][0]["value"] == "2024-07-26T08:00:00Z"


@pytest.mark.parametrize(("field", "op", "value", "ok"), [
    ("Name", "contains", "ab", True),
    ("Name", "contains", "5%", False),  # LIKE wildcard
    ("Name", "startsWith", "a_b", False),
    ("Name", "endsWith", "[x]", False),
    ("Name", "==", "", False),  # an empty value means IS NULL on the wire
    ("Name", "==", "trailing ", True),  # padded alike by SQL Server and the collation
    ("Name", ">", "m", False),  # collation order is not the gateway's
    ("Nations", ">", "10", True),
    ("Nations", "==", "1.5", False),  # not an integer: the gateway says "no match"
    ("Nations", "==", 2**40, False),  # past INT
    ("Nations", "contains", "1", False),
    ("Height", "<=", "1.85", True),
    ("Height", "<=", "1e3", False),
    ("Active", "==", True, True),
    ("Active", ">", True, False),
    ("OpeningDate", ">=", "2021-07-23", True),
    ("OpeningDate", ">=", "2021-07-23T10:00:00Z", False),
    ("id", "==", "not-a-guid", False),
    ("id", ">", GUID, False),  # uniqueidentifier order is not string order
    ("id", "in", (GUID, GUID.lower()), True),
    ("Sport", "==", 2, True),
    ("Sport", ">", 2, False),
    ("Logo", "==", "x", False),
    ("Logo", "isNull", None, True),
])
def test_what_is_pushed_is_only_what_the_service_answers_like_the_gateway(field, op, value, ok):
    if op in ("in", "notIn") and not isinstance(value, tuple):
        value = (value,)
    assert can(field, op, value) is ok


def test_multivalued_and_unknown_fields_stay_in_the_gateway():
    medals = FieldInfo("Medals", "integer", sortable=False, multivalued=True)
    assert not pushable(Condition("Medals", "==", 1), medals)
    assert not pushable(Condition("Nope", "==", 1), None)


def test_metadata_maps_types_and_presents_id():
    info = entity_from_metadata({"name": "Athletes", "displayName": "Athletes", "fields": [
        {"name": "Id", "isPrimaryKey": True, "sqlType": {"name": "UNIQUEIDENTIFIER"}},
        {"name": "Age", "sqlType": {"name": "INT"}, "fieldDisplayType": "Basic"},
        {"name": "Sport", "sqlType": {"name": "INT"}, "fieldDisplayType": "ChoiceSetSingle"},
        {"name": "Medals", "sqlType": {"name": "NVARCHAR"},
         "fieldDisplayType": "ChoiceSetMultiple"},
        {"name": "Games", "sqlType": {"name": "UNIQUEIDENTIFIER"},
         "fieldDisplayType": "Relationship"},
        {"name": "CreateTime", "sqlType": {"name": "DATETIME2"}},
        {"name": "Bio", "sqlType": {"name": "MULTILINE"}},
    ]})
    f = info.fields
    assert "Id" not in f and f["id"].type == "string" and f["id"].kind == "uuid"
    assert (f["Age"].type, f["CreateTime"].type) == ("integer", "datetime")
    assert f["Sport"].kind == "choice" and f["Medals"].multivalued
    assert f["Games"].type == "json" and not f["Games"].sortable and not f["Bio"].sortable


def test_envelope_is_read_in_either_case():
    assert envelope({"TotalRecordCount": 3, "Value": [{"Id": "a"}]}) == ([{"Id": "a"}], 3)
    assert envelope({"totalCount": 1, "value": []}) == ([], 1)
    with pytest.raises(ValueError):
        envelope({"records": []})


def _key(r):
    return r.get("Name") if isinstance(r, dict) else None


def test_batch_outcomes_follow_the_submitted_order_with_partial_failure():
    items = [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]
    answer = {"successRecords": [{"Id": "1", "Name": "a"}, {"Id": "3", "Name": "c"}],
              "failureRecords": {"error": "Name too long", "record": {"Name": "b"}}}
    got = outcomes(items, answer, _key, dict, fail_on_first=False)
    assert [o.status for o in got] == ["ok", "failed", "ok"]
    assert got[1].error == "Name too long" and got[2].record == {"Id": "3", "Name": "c"}


def test_fail_on_first_leaves_the_rest_not_executed():
    items = [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]
    answer = {"successRecords": [{"Id": "1", "Name": "a"}],
              "failureRecords": [{"error": "bad", "record": {"Name": "b"}}]}
    got = outcomes(items, answer, _key, dict, fail_on_first=True)
    assert [o.status for o in got] == ["ok", "failed", "not_executed"]
    assert outcomes(items, {"nope": 1}, _key, dict, fail_on_first=True) is None


def _resp(status, body: bytes, headers=None):
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict(headers or {})), body)


@pytest.mark.parametrize(("op", "status", "body", "cls", "http"), [
    ("login", 400, b'{"error":"invalid_client","error_description":"x"}', BackendAuthFailed, 502),
    ("query", 401, b"You are not authenticated to access Data Service.", BackendAuthFailed, 502),
    ("get", 403, b'{"error":"You don\'t have permission","traceId":"ab"}', Forbidden, 403),
    ("get", 404, b'{"error":"Record not found","traceId":"ab"}', NotFound, 404),
    ("query", 500, b"oops", BackendFailure, 502),
])
def test_error_table(op, status, body, cls, http):
    err = classify("robots", op, _resp(status, body))
    assert type(err) is cls and err.status == http
    assert err.source is not None and err.source.name == "robots" and err.source.status == status


def test_login_refusal_names_the_oauth_error_and_hides_the_secret():
    err = classify("robots", "login", _resp(401, b'{"error":"invalid_client",'
                                                b'"error_description":"bad secret"}'))
    assert err.source.error == "invalid_client"


def test_validation_errors_become_details():
    body = b'{"title":"One or more validation errors occurred.","errors":{"Nations":["bad"]}}'
    err = classify("robots", "create", _resp(400, body))
    assert isinstance(err, InvalidRequest)
    assert [(d.path, d.msg) for d in err.details] == [("Nations", "bad")]
    plain = classify("robots", "create", _resp(400, b'{"error":"Name is required"}'))
    assert [(d.path, d.msg) for d in plain.details] == [("data", "Name is required")]


def test_maintenance_has_a_retry_after_and_batch_400_keeps_its_answer():
    err = classify("robots", "query", _resp(503, b"{}"))
    assert isinstance(err, BackendUnavailable) and err.retry_after and err.retry_after > 0
    batch = classify("robots", "insert_batch",
                     _resp(400, b'{"successRecords":[],"failureRecords":[]}'))
    assert isinstance(batch, BatchRejected) and batch.answer["successRecords"] == []
