"""Contract harness for Slingr: its emulator, a source on it (typed entities), its raw records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.testing.harness import EmulatorHarness, Roles

__all__ = ["HARNESS", "entities_config"]

BASE = "/dev/runtime/api"


def entities_config() -> dict[str, Any]:
    """The emulated app's entities as a user would configure them: Slingr type per field."""
    from connectors.slingr.emulator.schema import ENTITIES

    out: dict[str, Any] = {}
    for entity in ENTITIES.values():
        fields: dict[str, Any] = {}
        for f in entity.fields:
            fields[f.name] = {"type": f.type, "multiple": f.multi}
            if f.type == "choice":
                fields[f.name]["options"] = [name for name, _ in f.choices]
            for inner in f.fields:
                fields[f"{f.name}.{inner.name}"] = {"type": inner.type,
                                                    "multiple": f.multi or inner.multi}
            if f.type == "relationship":
                fields[f"{f.name}.id"] = {"type": "id"}
                fields[f"{f.name}.label"] = {"type": "text"}
        out[entity.name] = {"fields": fields}
    return out


class SlingrHarness(EmulatorHarness):
    type = "slingr"
    roles = Roles(
        entity="companies",
        text="name",
        category="type",
        number="numberOfEmployees",
        writable={"name": "Contract Test Inc", "type": "a", "homepage": "http://x.example"},
        invalid={"type": "a"},  # companies need a name
        file_entity="companies",
        file_field="logo",
    )
    batches_creates = False  # Slingr has no batch create: creates go one by one
    batches_deletes = True  # DELETE /data/{entity}/{id,id,...}
    volatile_fields = frozenset({"lastUpdate", "version"})
    case_insensitive = False
    refused_auth = {"password": "wrong-password"}
    missing_id = "0123456789abcdef0000dead"
    types = {"name": "string", "type": "string", "numberOfEmployees": "integer", "id": "string"}

    token_path = f"{BASE}/auth/login"

    def make_emulator(self, **kw: Any) -> Any:
        from connectors.slingr.emulator import SlingrEmulator

        return SlingrEmulator(**{"users": {"admin@example.com": "admin"}, "seed": 42, **kw})

    def base_source(self, url: Callable[[str], str]) -> dict[str, Any]:
        return {"baseUrl": url(BASE),
                "auth": {"email": "admin@example.com", "password": "admin"},
                "entities": entities_config()}

    def list_call_sizes(self) -> list[int]:
        path = f"{BASE}/data/{self.roles.entity}"
        return [int(c.query["_size"]) for c in self._emu.log
                if c.method == "GET" and c.path == path and "_size" in c.query]

    def create_path(self) -> str:
        return f"{BASE}/data/{self.roles.entity}"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["version"])


HARNESS = SlingrHarness
