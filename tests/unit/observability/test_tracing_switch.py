"""The tracing switch: which OTEL_* environments turn it on, how exporters are chosen, and that
every start is undone by its stop."""

from __future__ import annotations

import pytest

from gateway.config.load import ConfigError
from gateway.observability import tracing


@pytest.mark.parametrize(("env", "on"), [
    ({}, False),
    ({"OTEL_TRACES_EXPORTER": "none"}, False),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ({"OTEL_TRACES_EXPORTER": "console,otlp"}, True),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_TRACES_EXPORTER": "none"}, False),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "false"}, True),
    ({"OTEL_SERVICE_NAME": "gw"}, False),  # naming the service asks for nothing
])
def test_what_the_environment_asks(env: dict[str, str], on: bool) -> None:
    assert tracing.wanted(env) is on


def test_off_unless_asked_and_nothing_to_stop() -> None:
    assert tracing.start(env={}) is False and tracing.TRACER is None
    tracing.stop()  # a stop without a start is harmless
    assert tracing.TRACER is None


def test_the_environment_builds_the_provider_and_the_last_stop_undoes_it() -> None:
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "gw-test"}
    assert tracing.start(env=env) and tracing.TRACER is not None
    assert tracing.start(env={})  # a second app in the process shares it
    tracing.stop()
    assert tracing.TRACER is not None
    tracing.stop()
    assert tracing.TRACER is None


@pytest.mark.parametrize(("env", "says"), [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER: 'zipkin' is not one of"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"},
     "OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon': use grpc"),
])
def test_an_exporter_it_cannot_build_is_a_startup_error(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        tracing.start(env=env)
    assert str(raised.value).startswith("environment: OTEL_")
    assert tracing.TRACER is None
