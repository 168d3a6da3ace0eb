"""The route table, one line per endpoint; app.py registers it and openapi.py documents it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp.typedefs import Handler
from pydantic import BaseModel

from gateway.http.handlers import bulk, discovery, export, files, ops, records
from gateway.http.handlers.explain import explaining
from gateway.http.models import (
    BulkBody,
    BulkResults,
    DeletedEnvelope,
    EntityListEnvelope,
    HealthBody,
    QueryBody,
    QueryEnvelope,
    ReadyBody,
    RecordEnvelope,
    RecordUpdate,
    RecordWrite,
    SourceListEnvelope,
)

__all__ = ["ROUTES", "Param", "Route"]


@dataclass(frozen=True)
class Param:
    """A query-string (or header) parameter beyond ``orgId``/``locale``."""

    name: str
    description: str
    where: str = "query"
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str  # unique; also the OpenAPI operationId; "files." routes stream their bodies
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    params: tuple[Param, ...] = ()
    public: bool = False  # no API key, no orgId
    content_type: str = "application/json"


_FIELDS = Param("fields", "comma-separated fields to return (id always included)")
_QUERY = (
    Param("filter", "the query body's filter as URL-encoded JSON"),
    Param("orderBy", "the query body's orderBy as URL-encoded JSON"),
    _FIELDS,
    Param("pageSize", "1 to the configured maximum; default 100", schema={"type": "integer"}),
    Param("pageNo", "from 1; default 1", schema={"type": "integer"}),
)
_EXPORT = (
    *(p for p in _QUERY if p.name in ("filter", "orderBy", "fields")),
    Param("format", "ndjson (default) or csv"),
    Param("after", "resume after this record id (exports ordered by id)"),
)
_IF_MATCH = Param("If-Match", "optimistic locking: the version read", where="header")
_RECORDS = "/v1/records/{source}/{entity}"
_ONE = _RECORDS + "/{id}"
_FILE = _ONE + "/files/{field}"
_FILENAME = Param("filename", "raw uploads: the file's name (default: the field name)")

ROUTES: tuple[Route, ...] = (
    # explain=true on either query form answers the plan instead (handlers/explain.py)
    Route("POST", _RECORDS + "/query", explaining(records.query_post), "records.query",
          "Query records", "records", body=QueryBody, response=QueryEnvelope),
    Route("GET", _RECORDS, explaining(records.query_get), "records.query_get",
          "Query records (the query in the query string)", "records", response=QueryEnvelope,
          params=_QUERY),
    Route("POST", _RECORDS, records.create_record, "records.create", "Create a record", "records",
          body=RecordWrite, response=RecordEnvelope, status=201),
    # before records.get, whose {id} would otherwise take "export" (spec §11)
    Route("GET", _RECORDS + "/export", export.export, "records.export",
          "Export every matching record, streamed as NDJSON (with a control line) or CSV",
          "records", params=_EXPORT, content_type="application/x-ndjson"),
    Route("GET", _ONE, records.get_record, "records.get", "Read one record", "records",
          response=RecordEnvelope, params=(_FIELDS,)),
    Route("PATCH", _ONE, records.update_record, "records.update", "Change fields of a record",
          "records", body=RecordUpdate, response=RecordEnvelope, params=(_IF_MATCH,)),
    Route("PUT", _ONE, records.update_record, "records.put",
          "Change fields of a record (same as PATCH)", "records", body=RecordUpdate,
          response=RecordEnvelope, params=(_IF_MATCH,)),
    Route("DELETE", _ONE, records.delete_record, "records.delete", "Delete a record", "records",
          response=DeletedEnvelope),
    Route("GET", _FILE, files.get_file, "files.get",
          "Download the file on a record's field (streamed, Content-Disposition: attachment)",
          "files", content_type="application/octet-stream"),
    Route("PUT", _FILE, files.put_file, "files.put",
          "Store a file on a record's field: multipart/form-data (part `file`) or the raw bytes "
          "with their Content-Type; streamed, at most server.maxBodyBytes", "files",
          response=files.FileEnvelope, params=(_FILENAME,)),
    Route("DELETE", _FILE, files.delete_file, "files.delete",
          "Remove the file from a record's field", "files",
          response=files.FileDeletedEnvelope),
    Route("POST", "/v1/bulk", bulk.bulk, "bulk.run",
          "Batch of calls (SugarCRM /bulk shape), one answer per entry; writes coalesced into "
          "the backends' native batches", "bulk", body=BulkBody, response=BulkResults),
    Route("GET", "/v1/sources", discovery.list_sources, "sources.list",
          "The sources this API key may use, with the health of this org's credentials",
          "discovery", response=SourceListEnvelope),
    Route("GET", "/v1/sources/{source}/entities", discovery.list_entities, "sources.entities",
          "A source's entities and their fields", "discovery", response=EntityListEnvelope),
    Route("GET", "/healthz", ops.healthz, "ops.healthz", "Process alive", "operations",
          response=HealthBody, public=True),
    Route("GET", "/readyz", ops.readyz, "ops.readyz",
          "The process's own readiness: config loaded, able to serve (backends never make it "
          "fail; see /v1/sources)", "operations",
          response=ReadyBody, public=True),
    Route("GET", "/metrics", ops.metrics, "ops.metrics", "Prometheus metrics", "operations",
          public=True, content_type="text/plain"),
    Route("GET", "/openapi.json", ops.openapi, "ops.openapi", "This document", "operations",
          public=True),
    Route("GET", "/docs", ops.docs, "ops.docs", "API documentation page (works offline)",
          "operations", public=True, content_type="text/html"),
    Route("GET", "/docs/{asset}", ops.docs_asset, "ops.docs_asset",
          "The documentation page's script and style", "operations", public=True,
          content_type="text/plain"),
)
