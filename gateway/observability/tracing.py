"""OpenTelemetry traces: an optional extra (``recordgate[tracing]``), off by default, free when off.

On when the standard environment asks for traces: ``OTEL_TRACES_EXPORTER`` names an exporter
other than ``none``, or ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
is set (``otlp`` then); ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set. The rest is
the SDK's own variables: the exporter's endpoint, protocol (``OTEL_EXPORTER_OTLP_PROTOCOL``:
``grpc``, the default, or ``http/protobuf``), headers and timeouts, ``OTEL_SERVICE_NAME``
(default ``recordgate``), ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_PROPAGATORS`` (W3C ``traceparent`` by default) and the instrumentations'
``OTEL_PYTHON_AIOHTTP_SERVER_EXCLUDED_URLS``.

Spans, parent to child:

    GET /v1/records/{source}/{entity}        the consumer's request (aiohttp-server
                                             instrumentation), with recordgate.request_id
      query.window | query.ties | query.scan  one per planner strategy run (gateway/query)
        <source> <operation>                  one per logical backend call (gateway/upstream):
                                              source, operation, status, attempts, retries
          GET                                 one per attempt (aiohttp-client instrumentation),
                                              which sends traceparent to the backend

When off, nothing of OpenTelemetry is imported and the hot paths pay one ``TRACER is None``
test: :data:`TRACER` is the process's switch, like OpenTelemetry's own global provider (the
instrumentations it drives patch aiohttp process-wide too). An app turns it on with
:func:`start` and off with :func:`stop`; apps that overlap (tests) share it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from gateway import __version__
from gateway.config.load import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from yarl import URL

__all__ = [
    "NO_SPAN", "REQUEST_ID", "TRACER", "app_ctx", "span", "start", "stop", "tag", "wanted",
]

log = structlog.get_logger("gateway.tracing")

# The tracer while tracing is on; None when off (then nothing else here runs).
TRACER: Tracer | None = None
# What a traced block enters when tracing is off: one shared, reusable no-op.
NO_SPAN: AbstractContextManager[None] = nullcontext()
REQUEST_ID = "recordgate.request_id"

_ENVIRONMENT = "environment"  # where a ConfigError says the bad setting is
_EXPORTER_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}


class _Switch:
    """Who turned tracing on, and what to undo when the last of them stops."""

    users = 0
    provider: TracerProvider | None = None  # owned: built here, shut down here
    undo: list[Callable[[], None]] = []


def wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard OTEL_* environment asks for traces (module docstring)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip())


def _exporter_names(env: Mapping[str, str]) -> list[str]:
    names = [n.strip() for n in env.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if n.strip()]
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc").strip()
    out = []
    for name in names:
        if name == "otlp":
            if protocol not in _EXPORTER_BY_PROTOCOL:
                raise ConfigError(_ENVIRONMENT, [(
                    "OTEL_EXPORTER_OTLP_PROTOCOL", f"{protocol!r}: use grpc or http/protobuf")])
            name = _EXPORTER_BY_PROTOCOL[protocol]
        out.append(name)
    return out


def _provider_from_env(env: Mapping[str, str]) -> TracerProvider:
    """A provider exporting in batches to the exporters the environment names (the SDK's
    ``opentelemetry_traces_exporter`` entry points: otlp, otlp_proto_grpc, otlp_proto_http,
    console); the exporters read their own OTEL_EXPORTER_* settings."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    found = {e.name: e for e in entry_points(group="opentelemetry_traces_exporter")}
    resource = Resource.create(
        {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "recordgate"})
    provider = TracerProvider(resource=resource)  # reads OTEL_TRACES_SAMPLER itself
    for name in _exporter_names(env):
        if name not in found:
            raise ConfigError(_ENVIRONMENT, [(
                "OTEL_TRACES_EXPORTER", f"{name!r} is not one of {sorted(found)}")])
        provider.add_span_processor(BatchSpanProcessor(found[name].load()()))
    return provider


def _without_query(url: URL) -> str:
    """A backend URL as a span shows it: no query string (it may carry filters or secrets)."""
    return str(url.with_query(None))


def start(provider: TracerProvider | None = None, env: Mapping[str, str] = os.environ) -> bool:
    """Turn tracing on for this process if ``env`` asks for it (or with ``provider``: tests
    pass one with an in-memory exporter); whether it is on. Call before the app's
    ``web.Application`` is built and its client sessions opened: the aiohttp instrumentations
    trace what is created after. Each ``start`` that returned True needs its :func:`stop`.
    An exporter or protocol it cannot build is a ``ConfigError`` (the CLI prints it and exits)."""
    global TRACER
    if _Switch.users:
        _Switch.users += 1
        return True
    if provider is None and not wanted(env):
        return False
    try:
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
        from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    except ImportError as exc:
        log.warning("tracing_unavailable", reason=str(exc),
                    hint="install the tracing extra: pip install 'recordgate[tracing]'")
        return False
    owned = provider is None
    if provider is None:
        provider = _provider_from_env(env)
    server, client = AioHttpServerInstrumentor(), AioHttpClientInstrumentor()
    with warnings.catch_warnings():  # its web.Application subclass, which aiohttp frowns upon
        warnings.filterwarnings("ignore", "Inheritance class", DeprecationWarning)
        server.instrument(tracer_provider=provider)
    client.instrument(tracer_provider=provider, url_filter=_without_query)
    _Switch.undo = [server.uninstrument, client.uninstrument]
    _Switch.provider = provider if owned else None
    _Switch.users = 1
    TRACER = provider.get_tracer("recordgate", __version__)
    return True


def stop() -> None:
    """Undo one :func:`start`; the last one removes the instrumentation and, when the spans
    went to the environment's exporters, flushes and closes them."""
    global TRACER
    if _Switch.users == 0:
        return
    _Switch.users -= 1
    if _Switch.users:
        return
    TRACER = None
    for undo in _Switch.undo:
        undo()
    _Switch.undo = []
    if _Switch.provider is not None:
        _Switch.provider.shutdown()
        _Switch.provider = None


async def app_ctx(app: web.Application) -> AsyncIterator[None]:
    """The app's ``cleanup_ctx`` entry when :func:`start` turned tracing on for it."""
    yield
    stop()


def span(name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Span]:
    """A span made current for the block; call only while :data:`TRACER` is set (callers test
    it first, so that an untraced request builds no attributes)."""
    assert TRACER is not None
    return TRACER.start_as_current_span(name, attributes=attributes)


def tag(attributes: Mapping[str, Any]) -> None:
    """Attributes on the current span (the request's server span, from the middlewares);
    None values are skipped."""
    from opentelemetry import trace

    current = trace.get_current_span()
    for key, value in attributes.items():
        if value is not None:
            current.set_attribute(key, value)
