"""What the conformance kit needs from a connector's test setup: the Harness protocol.

The kit's tests (``gateway/testing/contract/``) are written once against :class:`Harness`; a
connector joins them by writing one harness class, never by copying tests. A harness starts
the backend the tests run against (usually the connector's emulator), builds a source config
on it, and reads its raw data so the kit can compute the expected answers itself. Field
*roles* let a test say "a text field" or "a nullable category" without knowing what the
backend calls it.

Tests that inject faults, expire tokens or count wire calls use :attr:`Harness.emulator`
(the controls of ``connectors.emulation.EmulatorBase``: ``faults``, ``log``,
``expire_tokens()``); a harness on a real backend sets it to ``None`` and those tests skip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

__all__ = ["EmulatorControls", "EmulatorHarness", "Harness", "Roles", "emulator"]


@dataclass(frozen=True)
class Roles:
    """Which entity and fields of the backend's data the tests use, by what they are for."""

    entity: str
    text: str  # a string field with mixed case and shared prefixes
    category: str  # a low-cardinality string field with nulls
    datetime: str | None = None  # an ISO date-time field
    number: str | None = None  # a numeric field
    writable: dict[str, Any] = field(default_factory=dict)  # a valid record to create
    invalid: dict[str, Any] = field(default_factory=dict)  # a record the backend refuses
    file_entity: str | None = None  # an entity with a file field, and that field
    file_field: str | None = None


class EmulatorControls(Protocol):
    """What the kit drives on an emulator (``connectors.emulation.EmulatorBase`` has it all).

    ``log`` holds one entry per request received, with ``method``, ``path``, ``query`` (dict)
    and ``body`` (decoded JSON when it was JSON); ``faults`` arms failures (``fail``,
    ``rate_limit``, ``drop``, ``malformed``, ``maintenance``, ``latency``, ``clear``) as
    ``connectors.emulation.faults.Faults`` does."""

    @property
    def log(self) -> Sequence[Any]: ...
    @property
    def faults(self) -> Any: ...
    def expire_tokens(self) -> None: ...


class Harness(Protocol):
    """One backend the kit's tests run against, through the connector under test."""

    type: str  # the connector type (``type:`` in YAML); also the source's name in the tests
    roles: Roles
    types: dict[str, str]  # gateway field types of the fields the roles name, and ``id``
    case_insensitive: bool  # the backend's string collation (the gateway follows it)
    refused_auth: dict[str, Any]  # auth keys that make the backend refuse the gateway's login
    missing_id: str  # an id of the backend's shape that no record has
    batches_creates: bool  # creates in one /v1/bulk go out as one native batch call
    batches_deletes: bool  # deletes in one /v1/bulk go out as one native batch call
    volatile_fields: frozenset[str]  # fields the backend sets on each write (times, versions)

    def id_key(self, record_id: str) -> Any:
        """How the backend orders identifiers (ties are broken by id in that order)."""
        ...

    async def start(self, server_factory: Any, **emulator_kw: Any) -> None:
        """Start the backend (``server_factory`` is pytest-aiohttp's ``aiohttp_server``)."""
        ...

    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]:
        """The source's YAML mapping; ``per_call`` caps the records asked per list call."""
        ...

    def records(self) -> list[dict[str, Any]]:
        """Every record of ``roles.entity`` as stored, identifier under ``id``."""
        ...

    def token_calls(self) -> int:
        """How many token (login) calls the backend has received."""
        ...

    def list_call_sizes(self) -> list[int]:
        """The page size asked in each list call the backend received."""
        ...

    def create_path(self) -> str:
        """The backend path a create of ``roles.entity`` is sent to (for fault rules)."""
        ...

    def version_of(self, record: dict[str, Any]) -> str:
        """What a consumer sends as ``If-Match`` for optimistic locking on this record."""
        ...

    @property
    def emulator(self) -> EmulatorControls | None: ...


def emulator(h: Harness) -> Any:
    """The harness's emulator controls, or skip the test (a harness on a real backend)."""
    if h.emulator is None:
        pytest.skip(f"{h.type}: this test needs an emulator (faults, call log, token expiry)")
    return h.emulator


class EmulatorHarness:
    """What every emulator-backed harness does the same way: start its emulator on a test
    server, build the source config on it (with ``per_call`` and overrides), read the
    emulator's records.

    A subclass names its emulator (``make_emulator``), its source config (``base_source``), its
    token path, and whatever differs (``records`` for a backend whose key is not ``id``)."""

    type: str
    roles: Roles
    types: dict[str, str]
    case_insensitive: bool
    refused_auth: dict[str, Any]
    token_path: str
    per_call_key = "maxPerCall"
    missing_id = "00000000-0000-4000-8000-00000000dead"
    batches_creates = False
    batches_deletes = False
    volatile_fields: frozenset[str] = frozenset()

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

    def list_call_sizes(self) -> list[int]:
        raise NotImplementedError

    def create_path(self) -> str:
        raise NotImplementedError

    def version_of(self, record: dict[str, Any]) -> str:
        raise NotImplementedError

    @staticmethod
    def id_key(record_id: str) -> Any:
        return record_id
