"""Contract harness for UiPath Data Service: its emulator, a source on it, its raw records."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from gateway.testing.harness import EmulatorHarness, Roles

__all__ = ["HARNESS"]

_API = "/acme/DefaultTenant/datafabric_/api"


class DataServiceHarness(EmulatorHarness):
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
    batches_creates = True  # insert-batch
    batches_deletes = True  # delete-batch
    volatile_fields = frozenset({"UpdateTime", "CreateTime"})
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

    token_path = "/identity_/connect/token"

    def make_emulator(self, **kw: Any) -> Any:
        from connectors.dataservice.emulator import DataServiceEmulator

        return DataServiceEmulator(**kw)

    def base_source(self, url: Callable[[str], str]) -> dict[str, Any]:
        return {"baseUrl": url("/acme/DefaultTenant"),
                "auth": {"tokenUrl": url("/identity_/connect/token"),
                         "clientId": "recordgate", "clientSecret": "recordgate-secret",
                         "scope": "DataService.Data.Read DataService.Data.Write "
                                  "DataService.Schema.Read"}}

    def records(self) -> list[dict[str, Any]]:
        return [{"id": r["Id"], **{k: v for k, v in r.items() if k != "Id"}}
                for r in self._emu.store.all(self.roles.entity)]

    def list_call_sizes(self) -> list[int]:
        path = f"{_API}/EntityService/{self.roles.entity}/query"
        return [int(c.body["limit"]) for c in self._emu.log
                if c.path == path and isinstance(c.body, dict) and "limit" in c.body]

    def create_path(self) -> str:
        return f"{_API}/EntityService/{self.roles.entity}/insert"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["UpdateTime"])


HARNESS = DataServiceHarness
