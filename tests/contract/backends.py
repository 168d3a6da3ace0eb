"""One harness per source type: start its emulator, configure a source on it, read its raw data.

The contract suite (``test_*.py`` here) is written once against :class:`Harness`; a new connector
joins it by adding a ``harness_<type>.py`` module with a ``HARNESS`` class, never by copying
tests. Field *roles* let a test say "a text field" or "a nullable category" without knowing what
the backend calls it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["HARNESSES", "EmulatorHarness", "Harness", "Roles"]


@dataclass(frozen=True)
class Roles:
    entity: str
    text: str  # a string field with mixed case and shared prefixes
    category: str  # a low-cardinality string field with nulls
    datetime: str | None = None  # an ISO date-time field
    number: str | None = None  # a numeric field
    writable: dict[str, Any] = field(default_factory=dict)  # a valid record to create
    invalid: dict[str, Any] = field(default_factory=dict)  # a record the backend refuses
    file_entity: str | None = None  # an entity with a file field, and that field
    file_field: str | None = None


class Harness(Protocol):
    type: str
    roles: Roles
    types: dict[str, str]  # gateway field types of the fields the roles name
    case_insensitive: bool  # the backend's string collation (the gateway follows it)
    refused_auth: dict[str, Any]  # auth keys that make the backend refuse the gateway's login
    missing_id: str  # an id of the backend's shape that no record has

    def id_key(self, record_id: str) -> Any:
        """How the backend orders identifiers (ties are broken by id in that order)."""
        ...

    async def start(self, server_factory: Any, **emulator_kw: Any) -> None: ...
    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]: ...
    def records(self) -> list[dict[str, Any]]: ...
    def token_calls(self) -> int: ...
    def list_call_sizes(self) -> list[int]:
        """The page size asked in each list call the emulator received."""
        ...
    def create_path(self) -> str:
        """The emulator path a create of ``roles.entity`` is sent to (for fault rules)."""
        ...
    def version_of(self, record: dict[str, Any]) -> str:
        """What a consumer sends as ``If-Match`` for optimistic locking on this record."""
        ...
    @property
    def emulator(self) -> Any: ...


class EmulatorHarness:
    """What every harness does the same way: start its emulator on a test server, build the
    source config on it (with ``per_call`` and overrides), read the emulator's records.

    A subclass names its emulator (``make_emulator``), its source config (``base_source``), its
    token path, and whatever differs (``records`` for a backend whose key is not ``id``)."""

    type: str
    roles: Roles
    token_path: str
    per_call_key = "maxPerCall"
    missing_id = "00000000-0000-4000-8000-00000000dead"

    def __init__(self) -> None:
        self._emu: Any = None
        self._server: Any = None

    @property
    def emulator(self) -> Any:
        return self._emu

    def make_emulator(self, **kw: Any) -> Any:
        raise NotImplementedError

    def base_source(self, url: Callable[[str], str]) -> dict[str, Any]:
        """The source config, given a function from an emulator path to its URL."""
        raise NotImplementedError

    async def start(self, server_factory: Any, **emulator_kw: Any) -> None:
        self._emu = self.make_emulator(**emulator_kw)
        self._server = await server_factory(self._emu.app)

    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]:
        assert self._server is not None, "start() the harness first"
        cfg = {"type": self.type, "timeout": 5, "retries": 2,
               **self.base_source(lambda path: str(self._server.make_url(path)))}
        if per_call is not None:
            cfg[self.per_call_key] = per_call
        return {**cfg, **extra}

    def records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._emu.store.all(self.roles.entity)]

    def token_calls(self) -> int:
        return int(self._emu.calls("POST", self.token_path))

    @staticmethod
    def id_key(record_id: str) -> Any:
        return record_id


def _discover() -> dict[str, type[Harness]]:
    """Every ``harness_<type>.py`` beside this file contributes its ``HARNESS`` class."""
    found: dict[str, type[Harness]] = {}
    for path in sorted(Path(__file__).parent.glob("harness_*.py")):
        module = importlib.import_module(f"tests.contract.{path.stem}")
        found[module.HARNESS.type] = module.HARNESS
    return found


HARNESSES = _discover()
