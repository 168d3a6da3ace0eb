"""The Records API's request and answer shapes as pydantic models, the source of /openapi.json.

``QueryBody`` describes exactly what ``gateway.query.parse.parse_body`` accepts (a test holds the
two together); the parser, not this model, validates requests, so its error paths stay precise.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from gateway.query.model import OPERATORS

__all__ = [
    "API_MODELS",
    "BulkBody",
    "BulkEntry",
    "BulkResult",
    "BulkResults",
    "ConditionModel",
    "DeletedEnvelope",
    "EntityListEnvelope",
    "EntityModel",
    "ErrorDetail",
    "ErrorEnvelope",
    "ErrorSource",
    "FieldModel",
    "HealthBody",
    "OrderItem",
    "Pagination",
    "QueryBody",
    "QueryEnvelope",
    "ReadyBody",
    "Record",
    "RecordEnvelope",
    "RecordUpdate",
    "RecordWrite",
    "SourceListEnvelope",
    "SourceModel",
]

Operator = Literal[
    "==", "!=", ">", ">=", "<", "<=", "in", "notIn",
    "contains", "startsWith", "endsWith", "isNull", "isNotNull",
]
assert set(Operator.__args__) == set(OPERATORS)  # type: ignore[attr-defined]  # no drift
Scalar = str | int | float | bool | None


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConditionModel(_Closed):
    """``field operator value``; isNull/isNotNull take no value; in/notIn take a list or a
    comma-separated string (``\\,`` is a literal comma)."""

    field: str = Field(min_length=1)
    operator: Operator
    value: Scalar | list[str | int | float | bool] = None


class OrderItem(_Closed):
    field: str = Field(min_length=1)
    order: Literal["ASC", "DESC"] = "ASC"


class QueryBody(_Closed):
    """The body of ``POST /v1/records/{source}/{entity}/query`` (spec §3)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "fields": "name,industry",
            "filter": [[{"field": "annual_revenue", "operator": ">=", "value": "1000"},
                        {"field": "industry", "operator": "==", "value": "Energy"}],
                       [{"field": "name", "operator": "startsWith", "value": "Ac"}]],
            "orderBy": [{"field": "name", "order": "ASC"},
                        {"field": "date_entered", "order": "DESC"}],
            "pageSize": 100, "pageNo": 1,
        }]},
    )

    fields: str | list[str] | None = Field(
        None, description="comma-separated or a list; absent: every field (id always returned)"
    )
    filter: str | list[list[ConditionModel]] | None = Field(
        None, description="OR of AND groups; may also be the same JSON inside a string"
    )
    orderBy: str | list[OrderItem] | None = Field(
        None, description="sort keys in order; may also be JSON inside a string"
    )
    pageSize: int = Field(100, ge=1, description="1 to the configured maximum (at least 1000)")
    pageNo: int = Field(1, ge=1, description="from 1; past the last page: empty data")


class Record(BaseModel):
    """A record: its identifier under ``id`` and the backend's own field names."""

    model_config = ConfigDict(extra="allow")
    id: str | int


class RecordWrite(BaseModel):
    """Fields to create or change, under the backend's own names (``id`` optional)."""

    model_config = ConfigDict(extra="allow")


class RecordUpdate(RecordWrite):
    """Fields to change; fields not sent are left alone."""

    id: str | int | None = Field(None, description="if given, must equal the id in the path")
    version: str | int | None = Field(
        None, description="optimistic locking: the version read (or send an If-Match header); "
        "a mismatch is 409 conflict",
    )


class Pagination(_Closed):
    pageNo: int
    pageSize: int
    totalSize: int = Field(description="records matching the filter over all pages")


class _Ok(_Closed):
    code: Literal[0] = 0
    msg: str = "OK"


class QueryEnvelope(_Ok):
    data: list[Record]
    pagination: Pagination


class RecordEnvelope(_Ok):
    data: Record


class DeletedId(_Closed):
    id: str


class DeletedEnvelope(_Ok):
    data: DeletedId


class SourceModel(_Closed):
    name: str
    type: str
    health: Literal["ok", "down", "unknown"] = Field(
        description="the last known health of the backend credentials this org uses (another "
        "org's credentials never show here); re-checked when older than 5 s"
    )
    reason: str | None = Field(
        None, description="why it is down: the error id a call got",
        examples=["backend_auth_failed"],
    )
    circuit: Literal["closed", "open", "half_open"] = Field(
        description="the source's circuit breaker, shared by every org: open means calls are "
        "refused at once with 503 until a trial call succeeds"
    )


class SourceListEnvelope(_Ok):
    data: list[SourceModel]


class FieldModel(_Closed):
    name: str
    type: str
    filterable: bool
    sortable: bool


class EntityModel(_Closed):
    name: str
    label: str | None = None
    fields: list[FieldModel]


class EntityListEnvelope(_Ok):
    data: list[EntityModel]


class ErrorDetail(_Closed):
    path: str = Field(examples=["filter[0][1].operator"])
    msg: str


class ErrorSource(_Closed):
    """What a backend answered, when its answer caused the error (never its credentials)."""

    name: str
    status: int | None
    error: str | None


class ErrorEnvelope(_Closed):
    code: int = Field(description="the HTTP status")
    error: str = Field(description="stable snake_case identifier", examples=["not_found"])
    msg: str = Field(description="human text in the asked locale")
    details: list[ErrorDetail]
    requestId: str = Field(description="the same value as the X-Request-Id header")
    source: ErrorSource | None = None


class HealthBody(_Closed):
    status: Literal["ok"]


class ReadyBody(_Closed):
    """The process's own readiness (spec §14); backends never make it fail."""

    status: Literal["ready", "not_ready"]
    reason: str | None = Field(None, examples=["shutting down"])


class BulkEntry(_Closed):
    """One call of a bulk: a gateway path with or without ``/v1``; the bulk call's API key and
    ``orgId`` apply (another ``orgId`` or ``Authorization`` is refused for that entry)."""

    url: str = Field(min_length=1, examples=["/v1/records/crm/Accounts/42"])
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    data: Any = Field(None, description="the body: a JSON-encoded string (as SugarCRM) or a "
                      "JSON value")
    headers: dict[str, str] | list[str] | None = Field(
        None, description="extra headers (e.g. If-Match), as an object or 'Name: value' strings"
    )


class BulkBody(_Closed):
    """The body of ``POST /v1/bulk`` (spec §6, SugarCRM's /bulk shape)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "requests": [
                {"url": "/v1/records/crm/Accounts", "method": "POST",
                 "data": "{\"name\": \"test123\"}"},
                {"url": "/v1/records/ops/companies/query", "method": "POST",
                 "data": {"pageSize": 5}},
                {"url": "/v1/records/crm/Accounts/42", "method": "GET"},
            ],
            "failOnFirst": False,
        }]},
    )

    requests: list[BulkEntry] = Field(description="at most server.maxBulkRequests (413 beyond)")
    failOnFirst: bool = Field(False, description="after the first failed entry, the rest answer "
                              "424 not_executed and are not run")


class BulkResult(_Closed):
    """One entry's answer: exactly what its call alone would have answered."""

    contents: Any = Field(description="the call's JSON body (success or error envelope)")
    headers: dict[str, str]
    status: int


class BulkResults(RootModel[list[BulkResult]]):
    """The answer of ``POST /v1/bulk``: one result per entry, in request order."""


API_MODELS: tuple[type[BaseModel], ...] = (
    QueryBody, Record, RecordWrite, RecordUpdate, QueryEnvelope, RecordEnvelope, DeletedEnvelope,
    SourceListEnvelope, EntityListEnvelope, ErrorEnvelope, HealthBody, ReadyBody, BulkBody,
    BulkResults,
)
