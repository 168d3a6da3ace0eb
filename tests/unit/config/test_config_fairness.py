"""Config of fairness between consumers: upload idle timeout and each consumer's bulkhead share."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError


def test_defaults_a_short_upload_idle_timeout_and_half_the_slots_per_consumer(load, minimal):
    config = load(minimal)
    assert config.server.uploadIdleTimeout == 10
    source = config.sources["crm"]
    assert source.maxInFlight == 32 and source.maxInFlightPerConsumer is None
    assert source.consumer_share == 16


@pytest.mark.parametrize(("in_flight", "share"), [(1, 1), (2, 1), (5, 3), (32, 16)])
def test_the_default_share_is_half_rounded_up(load, minimal, in_flight, share):
    config = load(minimal.replace("    type: sugarcrm\n",
                                  f"    type: sugarcrm\n    maxInFlight: {in_flight}\n"))
    assert config.sources["crm"].consumer_share == share


def test_a_configured_share_is_taken_as_given(load, minimal):
    config = load(minimal.replace("    type: sugarcrm\n", "    type: sugarcrm\n    maxInFlight: 8\n"
                                  "    maxInFlightPerConsumer: 8\n"))
    assert config.sources["crm"].consumer_share == 8


@pytest.mark.parametrize(("value", "reason"), [
    ("0", "greater than or equal to 1"),
    ("33", "maxInFlightPerConsumer (33) cannot exceed maxInFlight (32)"),
    ("half", "valid integer"),
])
def test_a_bad_share_names_the_key(load, minimal, value, reason):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("    type: sugarcrm\n",
                             f"    type: sugarcrm\n    maxInFlightPerConsumer: {value}\n"))
    problems = dict(excinfo.value.problems)
    found = [why for path, why in problems.items() if path.startswith("sources.crm")]
    assert any(reason in why for why in found), problems


@pytest.mark.parametrize("value", ["0", "-1", "301"])
def test_the_upload_idle_timeout_is_bounded(load, minimal, value):
    with pytest.raises(ConfigError) as excinfo:
        load(f"server: {{uploadIdleTimeout: {value}}}\n" + minimal)
    assert "server.uploadIdleTimeout" in dict(excinfo.value.problems)
