"""One harness per source type: start its emulator, configure a source on it, read its raw data.

The contract suite (``test_*.py`` here) is written once against :class:`Harness`; a new connector
joins it by adding a harness to ``HARNESSES``, never by copying tests. Field *roles* let a test say
"a text field" or "a nullable category" without knowing what the backend calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp.test_utils import TestServer

__all__ = ["HARNESSES", "Harness", "Roles"]


@dataclass(frozen=True)
class Roles:
    entity: str
    text: str  # a string field with mixed case and shared prefixes
    category: str  # a low-cardinality string field with nulls
    datetime: str | None = None  # an ISO date-time field
    number: str | None = None  # a numeric field
    writable: dict[str, Any] = field(default_factory=dict)  # a valid record to create
    invalid: dict[str, Any] = field(default_factory=dict)  # a record the backend refuses


class Harness(Protocol):
    type: str
    roles: Roles
    types: dict[str, str]  # gateway field types of the fields the roles name

    async def start(self, server_factory: Any, **emulator_kw: Any) -> None: ...
    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]: ...
    def records(self) -> list[dict[str, Any]]: ...
    def token_calls(self) -> int: ...
    def list_calls(self) -> list[dict[str, Any]]: ...
    @property
    def emulator(self) -> Any: ...


class SugarHarness:
    type = "sugarcrm"
    roles = Roles(
        entity="Accounts",
        text="name",
        category="industry",
        datetime="date_entered",
        writable={"name": "Contract Test Inc", "industry": "Energy", "website": "x.example"},
        invalid={"industry": "Energy"},  # Accounts need a name
    )
    types = {"name": "string", "industry": "string", "date_entered": "datetime", "id": "string"}

    def __init__(self) -> None:
        self._emu: Any = None
        self._server: TestServer | None = None

    @property
    def emulator(self) -> Any:
        return self._emu

    async def start(self, server_factory: Any, **emulator_kw: Any) -> None:
        from connectors.sugarcrm.emulator import SugarEmulator

        self._emu = SugarEmulator(**emulator_kw)
        self._server = await server_factory(self._emu.app)

    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]:
        assert self._server is not None
        cfg: dict[str, Any] = {
            "type": "sugarcrm",
            "baseUrl": str(self._server.make_url("/rest/v10")),
            "timeout": 5,
            "retries": 2,
            "auth": {"username": "admin", "password": "admin", "clientId": "sugar",
                     "platform": "base"},
        }
        if per_call is not None:
            cfg["maxPerCall"] = per_call
        cfg.update(extra)
        return cfg

    def records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._emu.store.all(self.roles.entity)]

    def token_calls(self) -> int:
        return int(self._emu.calls("POST", "/rest/v10/oauth2/token"))

    def list_calls(self) -> list[dict[str, Any]]:
        path = f"/rest/v10/{self.roles.entity}/filter"
        return [c.body for c in self._emu.log if c.path == path and isinstance(c.body, dict)]


HARNESSES: dict[str, type[Harness]] = {"sugarcrm": SugarHarness}  # type: ignore[dict-item]
