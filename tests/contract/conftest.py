"""The contract suite's helpers, kept importable here for the suites that reuse them; the
fixtures (``harness``, ``gw``, ``gateway_for``) come from the kit's pytest plugin."""

from __future__ import annotations

from gateway.testing.client import AUTH, ORG, GatewayFor, oracle, query, walk

__all__ = ["AUTH", "ORG", "GatewayFor", "oracle", "query", "walk"]
