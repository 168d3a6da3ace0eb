"""Typed commands of the records service, and the parsing every entry point shares.

A command says who asks (:class:`Caller`), what it addresses (source, entity, id) and what it
carries (a parsed body, the query-string parameters). The HTTP handlers build one from a request,
``/v1/bulk`` from each of its entries; both parse bodies and parameters with the functions here,
so the same input gets the same refusal whichever way it came.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from multidict import MultiMapping

from gateway.errors import Detail, InvalidRequest
from gateway.query.limits import nesting_depth

if TYPE_CHECKING:
    from gateway.config.model import Consumer

__all__ = [
    "ENVELOPE_PARAMS",
    "GET_ONE_PARAMS",
    "MAX_BODY_DEPTH",
    "Caller",
    "Command",
    "Create",
    "Delete",
    "Get",
    "ListEntities",
    "ListSources",
    "Query",
    "Update",
    "bad_input",
    "object_body",
    "plain_params",
]

# Parameters every /v1 call may carry; they are the caller's context, not the command's.
ENVELOPE_PARAMS = frozenset({"orgId", "locale"})
GET_ONE_PARAMS = frozenset({"fields"})
MAX_BODY_DEPTH = 64  # JSON nesting in a request body


def bad_input(path: str, key: str, /, **params: Any) -> InvalidRequest:
    """400 for one problem of the input at ``path``."""
    return InvalidRequest(key, params, details=[Detail(path, key, params)])


def object_body(raw: bytes) -> dict[str, Any]:
    """A body's bytes as a JSON object, or a 400 that says why not."""
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as exc:
        raise bad_input("body", "bad_json", error=str(exc)) from None
    if not isinstance(body, dict):
        raise bad_input("body", "body_not_object")
    if nesting_depth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
        # orjson reads 1024 levels but writes only 255: a record nested that deep would fail
        # on its way to the backend, as a 500. No record or bulk body needs this many.
        raise bad_input("body", "too_deep", max=MAX_BODY_DEPTH)
    return body


def plain_params(
    query: MultiMapping[str], allowed: Iterable[str] | None = None
) -> dict[str, str]:
    """The query-string parameters other than orgId/locale, each given once (and, with
    ``allowed``, only those)."""
    out: dict[str, str] = {}
    for key in query:
        if key in ENVELOPE_PARAMS:
            continue
        values = query.getall(key)
        if len(values) > 1:
            raise bad_input(key, "duplicate_param", name=key)
        if allowed is not None and key not in allowed:
            raise bad_input(key, "unknown_key", key=key)
        out[key] = values[0]
    return out


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the consumer its API key matched (scopes were checked for the call) and the
    org it acts for."""

    consumer: Consumer | None
    org: str | None


@dataclass(frozen=True, slots=True)
class Command:
    caller: Caller
    source: str
    entity: str


@dataclass(frozen=True, slots=True)
class Query(Command):
    """A query: ``body`` (POST …/query) or ``params`` (GET, the query in the query string)."""

    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Get(Command):
    id: str
    params: dict[str, str] = field(default_factory=dict)  # fields only


@dataclass(frozen=True, slots=True)
class Create(Command):
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Update(Command):
    """PATCH and PUT alike; ``if_match`` is the raw If-Match header, if any."""

    id: str
    data: dict[str, Any]
    if_match: str | None = None


@dataclass(frozen=True, slots=True)
class Delete(Command):
    id: str


@dataclass(frozen=True, slots=True)
class ListSources:
    caller: Caller


@dataclass(frozen=True, slots=True)
class ListEntities:
    caller: Caller
    source: str
