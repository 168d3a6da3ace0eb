"""OpenTelemetry spans (issue 13 item 5) on each backend, exported to memory: the consumer's
request, the planner's strategy, each logical backend call and its attempts, in one trace that
reaches the backend (W3C traceparent); nothing at all when tracing is off."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.errors import GatewayError
from gateway.observability import tracing
from gateway.upstream.client import Upstream
from gateway.upstream.context import UpstreamContext
from tests.contract.backends import Harness
from tests.integration.observability.conftest import AUTH, EVERY_BACKEND, ORG

RECORDGATE_HARNESSES = EVERY_BACKEND
# Where each emulator receives a record query (Slingr's is GET on the entity's path).
QUERY_PATHS = {
    "sugarcrm": "/rest/v10/Accounts/filter",
    "slingr": "/dev/runtime/api/data/companies",
    "dataservice": "/acme/DefaultTenant/datafabric_/api/EntityService/Athletes/query",
}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for what the test builds after this fixture."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert tracing.start(provider)
    yield exporter
    tracing.stop()
    assert tracing.TRACER is None


@pytest.fixture
def h(spans: InMemorySpanExporter, harness: Harness) -> Harness:
    """The harness, its emulator built after tracing started: the emulator's own aiohttp app is
    then traced too, and its server spans show which trace its requests carried."""
    return harness


def child_of(parent: ReadableSpan, found: list[ReadableSpan]) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in found if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def query(gw: TestClient[Any, Any], h: Harness, request_id: str, status: int = 200,
                **body: Any) -> web.StreamResponse:
    resp = await gw.post(f"/v1/records/{h.type}/{h.roles.entity}/query", params={"orgId": ORG},
                         json=body, headers={**AUTH, "X-Request-Id": request_id})
    assert resp.status == status, await resp.text()
    await resp.read()
    return resp


async def faulted(gw: TestClient[Any, Any], h: Harness, spans: InMemorySpanExporter,
                  status: int, times: int) -> None:
    """Warm up (login, description), then arm ``times`` answers ``status`` to record queries
    and forget the spans so far."""
    await query(gw, h, "warm-up", pageSize=1)
    h.emulator.faults.fail(status, times=times, path=QUERY_PATHS[h.type])
    spans.clear()


async def test_a_query_is_one_trace_from_consumer_to_backend(
    h: Harness, gw: TestClient[Any, Any], spans: InMemorySpanExporter
) -> None:
    await query(gw, h, "warm-up", pageSize=1)  # the login and the entity's description
    spans.clear()
    await query(gw, h, "trace-me-7", pageSize=3)
    found = list(spans.get_finished_spans())
    (request,) = [s for s in found if s.kind == SpanKind.SERVER
                  and s.name == "POST /v1/records/{source}/{entity}/query"]
    attrs = request.attributes or {}
    assert attrs["recordgate.request_id"] == "trace-me-7" and attrs["recordgate.org"] == ORG
    assert attrs["recordgate.consumer"] == "tester" and attrs["http.route"]
    assert {s.context.trace_id for s in found if s.context} == {request.context.trace_id}
    (strategy,) = child_of(request, found)
    assert strategy.name == "query.window" and strategy.attributes is not None
    assert strategy.attributes["recordgate.strategy"] == "window"
    assert strategy.attributes["recordgate.source"] == h.type
    assert strategy.attributes["recordgate.total_size"] == len(h.records())
    calls = child_of(strategy, found)
    ops = sorted(str((c.attributes or {})["recordgate.operation"]) for c in calls)
    assert ops == (["count", "query"] if h.type == "sugarcrm" else ["query"])
    for call in calls:
        assert call.name == f"{h.type} {(call.attributes or {})['recordgate.operation']}"
        assert (call.attributes or {})["recordgate.source"] == h.type
        assert (call.attributes or {})["recordgate.status"] == 200
        assert (call.attributes or {})["recordgate.attempts"] == 1
        (attempt,) = child_of(call, found)  # the aiohttp client's span for the one attempt
        assert attempt.kind == SpanKind.CLIENT and "?" not in str(
            (attempt.attributes or {}).get("http.url", ""))
        (backend,) = child_of(attempt, found)  # the emulator got traceparent: same trace
        assert backend.kind == SpanKind.SERVER
    assert attrs["recordgate.backend_calls"] == len(calls)


async def test_retries_are_attempts_of_one_backend_call_span(
    h: Harness, gw: TestClient[Any, Any], spans: InMemorySpanExporter
) -> None:
    await faulted(gw, h, spans, 503, times=1)
    resp = await query(gw, h, "retried", pageSize=2)
    found = list(spans.get_finished_spans())
    (call,) = [s for s in found if s.name == f"{h.type} query"]
    attrs = call.attributes or {}
    assert (attrs["recordgate.attempts"], attrs["recordgate.retries"]) == (2, 1)
    assert attrs["recordgate.status"] == 200
    assert [e.attributes["recordgate.status"] for e in call.events if e.attributes] == [503, 200]
    attempts = child_of(call, found)
    assert sorted((s.attributes or {}).get("http.status_code", (s.attributes or {}).get(
        "http.response.status_code")) for s in attempts) == [200, 503]
    # Server-Timing counts every attempt, as the access line does.
    made = sum(int((s.attributes or {})["recordgate.attempts"]) for s in found
               if "recordgate.attempts" in (s.attributes or {}))
    assert f'desc="{made} calls"' in resp.headers["Server-Timing"]


async def test_a_failed_call_span_says_why(
    h: Harness, gw: TestClient[Any, Any], spans: InMemorySpanExporter
) -> None:
    await faulted(gw, h, spans, 500, times=5)
    await query(gw, h, "failed", status=502, pageSize=2)
    found = list(spans.get_finished_spans())
    (call,) = [s for s in found if s.name == f"{h.type} query"]
    assert not call.status.is_ok and (call.attributes or {})["recordgate.status"] == 500
    assert (call.attributes or {})["recordgate.attempts"] == 3  # the harness's retries: 2
    (request,) = [s for s in found if s.kind == SpanKind.SERVER and s.name.startswith("POST /v1")]
    assert (request.attributes or {})["http.status_code"] == 502


async def test_traceparent_reaches_the_backend_from_the_upstream_call() -> None:
    """On a tiny backend that keeps every request's headers: each attempt carries the trace of
    the span around the call, and the logical call's span is the attempt's parent."""
    seen: list[str] = []

    async def backend(request: web.Request) -> web.Response:
        seen.append(request.headers.get("traceparent", ""))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/x", backend)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with TestServer(app) as server:
        assert tracing.start(provider)
        try:
            async with aiohttp.ClientSession() as session:  # built while tracing is on
                upstream = Upstream(session, UpstreamContext("tiny", None, 5, 0),
                                    classify=lambda op, resp: GatewayError())
                with tracing.span("outer", {}):
                    await upstream.request("ping", "GET", str(server.make_url("/x")),
                                           safe=True)
        finally:
            tracing.stop()
    (call,) = [s for s in exporter.get_finished_spans() if s.name == "tiny ping"]
    (attempt,) = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    version, trace_id, parent_id, flags = seen[0].split("-")
    assert version == "00" and int(flags, 16) & 1  # sampled
    assert int(trace_id, 16) == call.context.trace_id
    assert int(parent_id, 16) == attempt.context.span_id


def test_nothing_is_traced_or_imported_when_off() -> None:
    """A gateway serving queries with tracing off (no OTEL_* asking for it) never imports
    OpenTelemetry, and its backends get no traceparent."""
    script = textwrap.dedent("""
        import asyncio, os, sys
        from aiohttp.test_utils import TestClient, TestServer
        from connectors.emulation.server import start
        from connectors.sugarcrm.emulator import SugarEmulator
        from gateway.config.load import load_config_text
        from gateway.http.app import create_app
        from gateway.testing.client import gateway_config_text

        seen = []

        async def main():
            emu = SugarEmulator(accounts=5, contacts=0)
            async def keep(request, response):
                seen.append(request.headers.get("traceparent"))
            emu.app.on_response_prepare.append(keep)
            runner, base = await start(emu.app)
            source = {"type": "sugarcrm", "baseUrl": base + "/rest/v10",
                      "auth": {"username": "admin", "password": "admin", "clientId": "sugar"}}
            config = load_config_text(gateway_config_text({"sugarcrm": source}), "t.yaml",
                                      env={})
            async with TestClient(TestServer(create_app(config, configure_logs=False))) as gw:
                for _ in range(3):
                    resp = await gw.post("/v1/records/sugarcrm/Accounts/query",
                                         params={"orgId": "acme"}, json={"pageSize": 2},
                                         headers={"Authorization": "Bearer test-key"})
                    assert resp.status == 200, await resp.text()
            await runner.cleanup()

        asyncio.run(main())
        assert seen and not any(seen), seen
        loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        assert not loaded, loaded
        print("ok", len(seen))
    """)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    last = done.stdout.strip().splitlines()[-1:]
    assert done.returncode == 0 and last and last[0].startswith("ok"), done.stderr[-3000:]
