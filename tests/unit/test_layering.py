"""The layering rules, checked on the source: emulators share no code with the gateway, and the
gateway reaches connectors only through the registry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_CODE = sorted(
    [*ROOT.glob("connectors/*/emulator/**/*.py"), *ROOT.glob("connectors/emulation/*.py")]
)
GATEWAY_CODE = sorted(ROOT.glob("gateway/**/*.py"))


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_there_is_code_to_check() -> None:
    assert len(EMULATOR_CODE) > 20 and len(GATEWAY_CODE) > 40


@pytest.mark.parametrize("path", EMULATOR_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_emulators_import_nothing_from_the_gateway(path: Path) -> None:
    bad = {m for m in imported_modules(path)
           if m == "gateway" or m.startswith("gateway.")
           or (m.startswith("connectors.") and ".emulator" not in m
               and not m.startswith("connectors.emulation"))}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", GATEWAY_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_gateway_names_no_connector(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m == "connectors" or m.startswith("connectors.")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} (use gateway.registry)"
