"""The conformance kit's pytest plugin (entry point ``pytest11: recordgate``): which harnesses
run, and the fixtures the kit's tests use.

A test module collects the kit by importing it and names its harnesses::

    from gateway.testing.suite import *  # noqa: F403  (every kit test)
    from my_connector.testing import MyHarness

    RECORDGATE_HARNESSES = [MyHarness]

Without ``RECORDGATE_HARNESSES`` in the module, ``--recordgate-harness module:Class``
(repeatable) names them on the command line. Every kit test then runs once per harness.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from gateway.testing.client import GatewayFor, MakeGateway, gateway_config_text
from gateway.testing.harness import Harness

__all__ = ["gateway_for", "gw", "harness", "make_gateway", "pytest_addoption",
           "pytest_generate_tests"]

MODULE_VARIABLE = "RECORDGATE_HARNESSES"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("recordgate", "recordgate conformance kit")
    group.addoption(
        "--recordgate-harness", action="append", default=[], metavar="MODULE:CLASS",
        help=f"a harness the kit's tests run against (when the test module sets no "
             f"{MODULE_VARIABLE}); repeatable",
    )


def _load(ref: str) -> type[Harness]:
    module, _, attr = ref.partition(":")
    if not attr:
        raise pytest.UsageError(f"--recordgate-harness {ref!r}: give MODULE:CLASS")
    try:
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise pytest.UsageError(f"--recordgate-harness {ref!r}: {exc}") from None


def harness_classes(metafunc: pytest.Metafunc) -> Sequence[type[Harness]]:
    named = getattr(metafunc.module, MODULE_VARIABLE, None)
    if named is not None:
        return list(named)
    refs: list[str] = metafunc.config.getoption("recordgate_harness")
    if not refs:
        raise pytest.UsageError(
            f"{metafunc.module.__name__} runs recordgate's conformance kit but names no "
            f"harness: set {MODULE_VARIABLE} = [YourHarness] in it, or pass "
            "--recordgate-harness module:Class"
        )
    return [_load(ref) for ref in refs]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the kit's ``harness`` runs once per harness class."""
    if "harness_class" not in metafunc.fixturenames:
        return
    classes = harness_classes(metafunc)
    metafunc.parametrize("harness_class", classes, ids=[c.type for c in classes])


@pytest.fixture
def make_gateway(aiohttp_client: Any) -> MakeGateway:
    """``await make_gateway({name: source})`` → a test client of a gateway over loopback."""
    from gateway.config.load import load_config_text
    from gateway.http.app import create_app

    async def make(sources: dict[str, Any], **kw: Any) -> TestClient[Any, Any]:
        config = load_config_text(gateway_config_text(sources, **kw), "test.yaml", env={})
        return await aiohttp_client(create_app(config, configure_logs=False))  # type: ignore[no-any-return]

    return make


@pytest_asyncio.fixture
async def harness(harness_class: type[Harness], aiohttp_server: Any) -> Harness:
    """A started harness: a fresh backend (emulator) for this test."""
    h = harness_class()
    await h.start(aiohttp_server)
    return h


@pytest.fixture
def gateway_for(make_gateway: MakeGateway) -> GatewayFor:
    """``await gateway_for(harness, per_call=7)``: a gateway whose one source is that harness."""

    async def make(h: Harness, **source_kw: Any) -> TestClient[Any, Any]:
        return await make_gateway({h.type: h.source(**source_kw)})

    return make


@pytest_asyncio.fixture
async def gw(harness: Harness, gateway_for: GatewayFor) -> TestClient[Any, Any]:
    """A gateway on the harness's backend, with the harness's default source config."""
    return await gateway_for(harness)
