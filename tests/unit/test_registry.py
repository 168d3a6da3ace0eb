"""The connector registry: built-ins plus the ``recordgate.connectors`` entry points, and the
``gateway connectors`` listing that shows where each type comes from."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from gateway import __version__, registry
from gateway.cli import main
from tests.integration.http.memory import MEMORY_TYPE

# Objects the fake entry points below point at.
NOT_A_TYPE = object()
MEMORY = MEMORY_TYPE


class _Dist:
    name, version = "acme-connectors", "2.3.4"


def _ep(name: str, value: str) -> EntryPoint:
    ep = EntryPoint(name, value, registry.ENTRY_POINT_GROUP)
    object.__setattr__(ep, "dist", _Dist())  # what importlib sets for an installed package
    return ep


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Entry points the registry will see, instead of the installed ones."""
    eps: list[EntryPoint] = []

    def fake(*, group: str) -> list[EntryPoint]:
        assert group == registry.ENTRY_POINT_GROUP
        return eps

    monkeypatch.setattr(registry, "entry_points", fake)
    registry._scan.cache_clear()
    yield eps
    registry._scan.cache_clear()


def by_name() -> dict[str, Any]:
    return {i.name: i for i in registry.installed()}


def test_an_entry_point_adds_a_usable_type_with_its_package(plugins: list[EntryPoint]) -> None:
    plugins.append(_ep("memory", f"{__name__}:MEMORY"))
    assert registry.get_type("memory") is MEMORY_TYPE
    listed = by_name()["memory"]
    assert (listed.package, listed.version, listed.origin, listed.problem) == (
        "acme-connectors", "2.3.4", "entry point", None)
    assert by_name()["sugarcrm"].origin == "built-in"


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("memory", "no_such_module_xyz:TYPE", "cannot be loaded: ModuleNotFoundError"),
    ("memory", f"{__name__}:NOT_A_TYPE", "not a gateway.registry.ConnectorType"),
    ("other", f"{__name__}:MEMORY", "names a ConnectorType 'memory'"),
    ("sugarcrm", f"{__name__}:MEMORY", "name taken by recordgate"),
])
def test_a_broken_plugin_is_reported_and_left_out(
    plugins: list[EntryPoint], name: str, value: str, problem: str
) -> None:
    plugins.append(_ep(name, value))
    assert problem in str(by_name()[name].problem)
    assert registry.get_type("sugarcrm").name == "sugarcrm"  # the built-in still wins
    if name != "sugarcrm":
        with pytest.raises(KeyError, match="installed: dataservice, slingr, sugarcrm"):
            registry.get_type(name)


def test_gateway_connectors_lists_package_version_and_source(
    plugins: list[EntryPoint], capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.append(_ep("memory", f"{__name__}:MEMORY"))
    assert main(["connectors"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TYPE", "PACKAGE", "VERSION", "SOURCE", "OBJECT"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["memory"] == ["memory", "acme-connectors", "2.3.4", "entry", "point",
                              f"{__name__}:MEMORY"]
    assert rows["slingr"][1:4] == ["recordgate", __version__, "built-in"]


def test_gateway_connectors_exits_1_naming_a_broken_plugin(
    plugins: list[EntryPoint], capsys: pytest.CaptureFixture[str]
) -> None:
    plugins.append(_ep("broken", "no_such_module_xyz:TYPE"))
    assert main(["connectors"]) == 1
    out = capsys.readouterr()
    assert "broken" in out.out
    assert "broken (acme-connectors) is not usable: cannot be loaded" in out.err
