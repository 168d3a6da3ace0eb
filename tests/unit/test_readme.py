"""The README's connector tables and config keys cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.model import ServerConfig
from gateway.registry import connector_types, installed

# The README documents the connectors recordgate ships; installed plugins document themselves.
BUILT_IN = sorted(i.name for i in installed() if i.origin == "built-in")

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_connector_note_is_in_the_readme_table(name: str) -> None:
    notes = connector_types()[name].notes
    assert notes, f"{name} declares no capability notes"
    missing = [f"| {k} | {v} |" for k, v in notes.items() if f"| {k} | {v} |" not in README]
    assert not missing, f"README lacks rows for {name}: {missing}"


def test_every_server_key_is_documented() -> None:
    missing = [k for k in ServerConfig.model_fields if f"server.{k}" not in README]
    assert not missing


def test_readme_gives_both_setup_commands_first() -> None:
    head = README[:1200]
    assert "make demo" in head and "make test" in head
