"""The built-in connectors' harnesses for the conformance kit: every ``harness_<type>.py`` here.

The kit itself (the Harness protocol, the tests, the oracle) ships in ``gateway/testing/``; the
three built-ins run it exactly as an out-of-tree connector does (``test_*.py`` here import the
kit and name ``RECORDGATE_HARNESSES``). Other suites reuse these harnesses through HARNESSES.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from gateway.testing.harness import EmulatorHarness, Harness, Roles

__all__ = ["HARNESSES", "EmulatorHarness", "Harness", "Roles"]


def _discover() -> dict[str, type[Harness]]:
    """Every ``harness_<type>.py`` beside this file contributes its ``HARNESS`` class."""
    found: dict[str, type[Harness]] = {}
    for path in sorted(Path(__file__).parent.glob("harness_*.py")):
        module = importlib.import_module(f"tests.contract.{path.stem}")
        found[module.HARNESS.type] = module.HARNESS
    return found


HARNESSES = _discover()
