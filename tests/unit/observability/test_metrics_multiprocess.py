"""Workers' metrics: a scrape that meets another worker's file mid-write still answers."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.metrics_core import CounterMetricFamily

from gateway.observability.metrics import Metrics


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> Metrics:
    path = tempfile.mkdtemp(prefix="recordgate-metrics-test-")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", path)
    return Metrics(multiprocess_dir=path)


def _files_collector(metrics: Metrics) -> Any:
    (sampled,) = [c for c in metrics.registry._collector_to_names
                  if type(c).__name__ == "_Sampled"]
    return sampled._files


@pytest.mark.parametrize("error", [ValueError("cut key"), FileNotFoundError("gone"),
                                   UnicodeDecodeError("utf-8", b"\xff", 0, 1, "half a key")])
def test_a_read_that_breaks_once_is_read_again(metrics: Metrics, error: Exception,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files_collector(metrics)
    calls = []

    def flaky() -> Any:  # the workers' files, as prometheus-client reads them
        calls.append(1)
        if len(calls) == 1:
            raise error
        return [CounterMetricFamily("gateway_probe", "every worker's", value=3)]

    monkeypatch.setattr(files, "collect", flaky)
    text = generate_latest(metrics.registry).decode()
    assert "gateway_probe_total 3.0" in text
    assert len(calls) == 2


def test_a_read_that_keeps_breaking_fails_the_scrape(metrics: Metrics,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files_collector(metrics)

    def broken() -> Any:
        raise ValueError("always cut")

    monkeypatch.setattr(files, "collect", broken)
    with pytest.raises(ValueError, match="always cut"):
        generate_latest(metrics.registry)
