"""Contract harness for SugarCRM: its emulator, a source on it, its raw records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.testing.harness import EmulatorHarness, Roles

__all__ = ["HARNESS"]


class SugarHarness(EmulatorHarness):
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
    batches_creates = True  # Sugar's /bulk
    batches_deletes = True
    volatile_fields = frozenset({"date_modified", "date_entered", "modified_user_id"})
    case_insensitive = True
    refused_auth = {"password": "wrong-password"}
    types = {"name": "string", "industry": "string", "date_entered": "datetime", "id": "string"}

    token_path = "/rest/v10/oauth2/token"

    def make_emulator(self, **kw: Any) -> Any:
        from connectors.emulation import stepping
        from connectors.sugarcrm.emulator import SugarEmulator
        from connectors.sugarcrm.emulator.store import utcnow

        emu = SugarEmulator(**kw)
        # Sugar's version is date_modified, whole seconds: two saves in one second share it, so
        # a stale If-Match cannot be told from the current one (as on real Sugar). The contract's
        # locking tests save faster than that; here the clock moves 1 s per read, so every save
        # gets its own second.
        emu.clock = stepping(utcnow(), timedelta(seconds=1))
        return emu

    def base_source(self, url: Callable[[str], str]) -> dict[str, Any]:
        return {"baseUrl": url("/rest/v10"),
                "auth": {"username": "admin", "password": "admin", "clientId": "sugar",
                         "platform": "base"}}

    def list_call_sizes(self) -> list[int]:
        path = f"/rest/v10/{self.roles.entity}/filter"
        return [int(c.body["max_num"]) for c in self._emu.log
                if c.path == path and isinstance(c.body, dict) and "max_num" in c.body]

    def create_path(self) -> str:
        return f"/rest/v10/{self.roles.entity}"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["date_modified"])


HARNESS = SugarHarness
