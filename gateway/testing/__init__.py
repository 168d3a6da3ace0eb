"""recordgate's conformance kit: the Records API contract as tests any connector can run.

Write a :class:`Harness` (usually an :class:`EmulatorHarness` on your emulator), then in a
test module ``from gateway.testing.suite import *`` and ``RECORDGATE_HARNESSES = [YourHarness]``;
``pytest`` runs every kit test against it. The pytest plugin (``gateway.testing.plugin``) is
registered by installing recordgate; see docs/connectors.md.
"""

from gateway.testing.harness import EmulatorControls, EmulatorHarness, Harness, Roles

__all__ = ["EmulatorControls", "EmulatorHarness", "Harness", "Roles"]
