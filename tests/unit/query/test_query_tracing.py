"""One span per planner strategy run, with what it decided, when tracing is on; none when off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from query_fakes import BARE, ENTITY, FULL, FakeConnector, caps, sample_records

from gateway.connector import Record
from gateway.observability import tracing
from gateway.query.execute import run_query
from gateway.query.model import OrderKey, Query


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    out = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(out))
    assert tracing.start(provider)
    yield out
    tracing.stop()


def attrs(exporter: InMemorySpanExporter) -> list[tuple[str, dict[str, object]]]:
    return [(s.name, dict(s.attributes or {})) for s in exporter.get_finished_spans()]


async def test_window_and_scan_each_get_a_span(exporter: InMemorySpanExporter) -> None:
    recs = sample_records(30)
    await run_query(FakeConnector(recs, capabilities=FULL), ENTITY, Query(page_size=4))
    await run_query(FakeConnector(recs, capabilities=BARE), ENTITY, Query(page_size=4))
    (window, window_attrs), (scan, scan_attrs) = attrs(exporter)
    assert (window, scan) == ("query.window", "query.scan")
    assert window_attrs == {
        "recordgate.source": "fake", "recordgate.entity": "things",
        "recordgate.strategy": "window", "recordgate.page_no": 1, "recordgate.page_size": 4,
        "recordgate.total_size": 30, "recordgate.backend_calls": 2}
    assert scan_attrs["recordgate.strategy"] == "scan"
    assert scan_attrs["recordgate.backend_calls"] == 5  # 30 records, 7 a call, no count


async def test_ties_then_the_scan_it_falls_back_to(exporter: InMemorySpanExporter) -> None:
    recs: list[Record] = [{"id": f"g{i:04d}", "rev": i // 3, "name": f"n{i % 3}"}
                          for i in range(7)]
    conn = FakeConnector(recs, capabilities=caps(FULL, multi_sort=False))
    query = Query(order_by=(OrderKey("rev"), OrderKey("name", True)), page_size=3, page_no=2)
    res = await run_query(conn, ENTITY, query)
    assert res.plan.strategy == "scan" and res.plan.fallback
    (ties, ties_attrs), (scan, scan_attrs) = attrs(exporter)
    assert (ties, scan) == ("query.ties", "query.scan")
    assert ties_attrs["recordgate.fallback"] == res.plan.fallback
    assert "recordgate.total_size" not in ties_attrs  # it answered nothing itself
    assert scan_attrs["recordgate.total_size"] == 7


async def test_no_span_once_stopped() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert tracing.start(provider)
    conn = FakeConnector(sample_records(10), capabilities=FULL)
    await run_query(conn, ENTITY, Query())
    tracing.stop()
    await run_query(conn, ENTITY, Query())
    assert [s.name for s in exporter.get_finished_spans()] == ["query.window"]
