"""Contract harness for UiPath Data Service: its emulator, a source on it, its raw records."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestServer

from tests.contract.backends import Roles

__all__ = ["HARNESS"]

_API = "/acme/DefaultTenant/datafabric_/api"


class DataServiceHarness:
    type = "dataservice"
    roles = Roles(
        entity="Athletes",
        text="Name",
        category="Country",
        datetime="LastSeen",
        number="Age",
        writable={"Name": "Contract Test Athlete", "Country": "Kenya", "Age": 30},
        invalid={"Country": "Kenya"},  # Athletes need a Name
        file_entity="Olympics",
        file_field="Logo",
    )
    case_insensitive = True
    refused_auth = {"clientSecret": "wrong-secret"}
    types = {"Name": "string", "Country": "string", "LastSeen": "datetime", "Age": "integer",
             "id": "string"}

    @staticmethod
    def id_key(record_id: str) -> tuple[bytes, ...]:
        """SQL Server's uniqueidentifier order: .NET byte layout (first three groups
        little-endian), compared as bytes 10-15, 8-9, 6-7, 4-5, 0-3."""
        raw = uuid.UUID(record_id).bytes_le
        return (raw[10:16], raw[8:10], raw[6:8], raw[4:6], raw[0:4])

    def __init__(self) -> None:
        self._emu: Any = None
        self._server: TestServer | None = None

    @property
    def emulator(self) -> Any:
        return self._emu

    async def start(self, server_factory: Any, **emulator_kw: Any) -> None:
        from connectors.dataservice.emulator import DataServiceEmulator

        self._emu = DataServiceEmulator(**emulator_kw)
        self._server = await server_factory(self._emu.app)

    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]:
        assert self._server is not None
        cfg: dict[str, Any] = {
            "type": "dataservice",
            "baseUrl": str(self._server.make_url("/acme/DefaultTenant")),
            "timeout": 5,
            "retries": 2,
            "auth": {"tokenUrl": str(self._server.make_url("/identity_/connect/token")),
                     "clientId": "recordgate", "clientSecret": "recordgate-secret",
                     "scope": "DataService.Data.Read DataService.Data.Write "
                              "DataService.Schema.Read"},
        }
        if per_call is not None:
            cfg["maxPerCall"] = per_call
        cfg.update(extra)
        return cfg

    def records(self) -> list[dict[str, Any]]:
        return [{"id": r["Id"], **{k: v for k, v in r.items() if k != "Id"}}
                for r in self._emu.store.all(self.roles.entity)]

    def token_calls(self) -> int:
        return int(self._emu.calls("POST", "/identity_/connect/token"))

    def list_call_sizes(self) -> list[int]:
        path = f"{_API}/EntityService/{self.roles.entity}/query"
        return [int(c.body["limit"]) for c in self._emu.log
                if c.path == path and isinstance(c.body, dict) and "limit" in c.body]

    def create_path(self) -> str:
        return f"{_API}/EntityService/{self.roles.entity}/insert"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["UpdateTime"])


HARNESS = DataServiceHarness
