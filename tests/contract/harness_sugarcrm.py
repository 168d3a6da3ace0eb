"""Contract harness for SugarCRM: its emulator, a source on it, its raw records."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from tests.contract.backends import Roles

__all__ = ["HARNESS"]


class SugarHarness:
    type = "sugarcrm"
    roles = Roles(
        entity="Accounts",
        text="name",
        category="industry",
        datetime="date_entered",
        writable={"name": "Contract Test Inc", "industry": "Energy", "website": "x.example"},
        invalid={"industry": "Energy"},  # Accounts need a name
        file_entity="Contacts",
        file_field="picture",
    )
    case_insensitive = True
    refused_auth = {"password": "wrong-password"}
    types = {"name": "string", "industry": "string", "date_entered": "datetime", "id": "string"}

    @staticmethod
    def id_key(record_id: str) -> str:
        return record_id

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

    def list_call_sizes(self) -> list[int]:
        path = f"/rest/v10/{self.roles.entity}/filter"
        return [int(c.body["max_num"]) for c in self._emu.log
                if c.path == path and isinstance(c.body, dict) and "max_num" in c.body]

    def create_path(self) -> str:
        return f"/rest/v10/{self.roles.entity}"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["date_modified"])


HARNESS = SugarHarness
