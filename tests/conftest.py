"""Fixtures every suite may use: a gateway built from a config dict, served over loopback.

They are the conformance kit's (``gateway/testing``, loaded as the ``recordgate`` pytest plugin):
``make_gateway`` and ``gateway_config_text`` are imported from there so that the built-in
suites and an out-of-tree connector's build gateways the same way.
"""

from __future__ import annotations

from gateway.testing.client import MakeGateway, gateway_config_text

__all__ = ["MakeGateway", "gateway_config_text"]
