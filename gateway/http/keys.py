"""The typed keys of the app (config, sources, metrics, redactor, state store) and of each
request's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gateway.i18n import DEFAULT_LOCALE
from gateway.observability.metrics import Metrics
from gateway.observability.redact import Redactor
from gateway.records.service import RecordsService
from gateway.sources import Sources
from gateway.state import StateStore

if TYPE_CHECKING:
    from gateway.config.model import Consumer, GatewayConfig

__all__ = [
    "CONFIG",
    "CONSUMERS",
    "METRICS",
    "OPENAPI",
    "RECORDS",
    "REDACTOR",
    "SOURCES",
    "STATE",
    "STORE",
    "RequestState",
    "state",
]

CONFIG: web.AppKey[GatewayConfig] = web.AppKey("config")
SOURCES = web.AppKey("sources", Sources)
METRICS = web.AppKey("metrics", Metrics)
REDACTOR = web.AppKey("redactor", Redactor)
CONSUMERS: web.AppKey[Any] = web.AppKey("consumers")  # middleware.consumers.KeyRing
OPENAPI = web.AppKey("openapi", bytes)  # the rendered /openapi.json, built once
STORE: web.AppKey[StateStore] = web.AppKey("state_store")  # idempotency records, rate buckets
RECORDS = web.AppKey("records", RecordsService)  # what the handlers and /v1/bulk call


@dataclass
class RequestState:
    """What the middlewares learn about a request, for the handlers and the access line."""

    request_id: str
    locale: str = DEFAULT_LOCALE
    locale_asked: str | None = None  # the raw `locale` parameter, when it was not understood
    consumer: Consumer | None = None
    org: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Headers every answer to this request carries, errors included (RateLimit-*).
    headers: dict[str, str] = field(default_factory=dict)


STATE = web.RequestKey("recordgate_state", RequestState)


def state(request: web.Request) -> RequestState:
    """The request's state; set first thing by the context middleware."""
    return request[STATE]
