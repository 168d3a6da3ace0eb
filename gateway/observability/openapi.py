"""OpenAPI 3.1 of the Records API, built from the route table and the same pydantic models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.http.models import ErrorEnvelope
from gateway.i18n import LOCALES

if TYPE_CHECKING:
    from gateway.http.routes import Route

__all__ = ["REF", "build_openapi"]

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")
# The errors any /v1 call can answer (spec §2); each route also has the ones of its own kind.
_API_ERRORS = {
    400: "Malformed body or parameters (`details` says where); an upload that sent nothing "
         "for server.uploadIdleTimeout seconds",
    401: "Missing or unknown API key",
    403: "This API key may not use this org or source",
    404: "Unknown source, entity or record",
    413: "Body over the configured limit",
    422: "The source type cannot do this operation",
    429: "Rate limited: this key's rate limit or its share of a source's in-flight calls "
         "(maxInFlightPerConsumer), or the backend's (Retry-After set)",
    502: "The backend answered badly, or refused the gateway's credentials",
    503: "The backend is unavailable (Retry-After set)",
    504: "The backend did not answer in time",
    500: "A bug; the requestId finds it in the logs",
}
_WRITE_ERRORS = {409: "Version mismatch (optimistic locking)"}
# Calls that carry a body: one in a content coding other than gzip, deflate or identity.
_BODY_ERRORS = {415: "Content-Encoding not supported (Accept-Encoding names those that are)"}
_PATH_DOC = {
    "source": "a configured source name",
    "entity": "an entity of that source",
    "id": "the record identifier",
    "asset": "docs.js or docs.css",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _request_id_header() -> dict[str, Any]:
    return {"X-Request-Id": {
        "description": "echoed from the request when given, else generated; equals requestId",
        "schema": {"type": "string"},
    }}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
         "description": _PATH_DOC.get(name, name)}
        for name in _PATH_PARAM.findall(route.path)
    ]
    if not route.public:
        params.append({"name": "orgId", "in": "query", "required": True,
                       "schema": {"type": "string"},
                       "description": "selects backend credentials and what the key may see"})
        params.append({"name": "locale", "in": "query", "required": False,
                       "schema": {"type": "string", "default": "en-US", "enum": list(LOCALES)},
                       "description": "language of `msg`; en_US spellings are accepted too"})
    params += [
        {"name": p.name, "in": p.where, "required": False, "schema": p.schema,
         "description": p.description}
        for p in route.params
    ]
    return params


def _responses(route: Route) -> dict[str, Any]:
    # Without a model: a JSON answer is some object (this document), anything else is text.
    bare = {"type": "object"} if route.content_type == "application/json" else {"type": "string"}
    content: dict[str, Any] = (
        {route.content_type: {"schema": _ref(route.response)}} if route.response is not None
        else {route.content_type: {"schema": bare}}
    )
    out: dict[str, Any] = {
        str(route.status): {"description": route.summary, "content": content,
                            "headers": _request_id_header()},
    }
    if route.public:
        if route.name == "ops.readyz" and route.response is not None:
            out["503"] = {"description": "not ready: starting or shutting down",
                          "content": {"application/json": {"schema": _ref(route.response)}}}
        if _PATH_PARAM.search(route.path):  # /docs/{asset}: an unknown name is not found
            out["404"] = {"description": "no such document",
                          "content": {"application/json": {"schema": _ref(ErrorEnvelope)}},
                          "headers": _request_id_header()}
        return out
    errors = dict(_API_ERRORS)
    if route.method in ("PATCH", "PUT", "DELETE", "POST") and route.name != "records.query":
        errors.update(_WRITE_ERRORS)
    if route.method in ("PATCH", "PUT", "POST"):
        errors.update(_BODY_ERRORS)
    for status, text in sorted(errors.items()):
        out[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": _ref(ErrorEnvelope)}},
            "headers": _request_id_header(),
        }
    return out


def build_openapi(routes: Sequence[Route], *, version: str) -> dict[str, Any]:
    """The whole document; components hold every model the routes name, plus the error envelope."""
    models: dict[str, type[BaseModel]] = {ErrorEnvelope.__name__: ErrorEnvelope}
    for route in routes:
        for model in (route.body, route.response):
            if model is not None:
                models[model.__name__] = model
    _, schema = models_json_schema(
        [(m, "validation") for m in models.values()], ref_template=REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {
            "operationId": route.name,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": _parameters(route),
            "responses": _responses(route),
            "security": [] if route.public else [{"apiKey": []}],
        }
        if route.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(route.body)}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "recordgate Records API",
            "version": version,
            "description": "One Records API in front of SaaS record backends. Every /v1 call "
            "needs `Authorization: Bearer <api key>` and `orgId`.",
        },
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "gateway API key"}
            },
        },
    }
