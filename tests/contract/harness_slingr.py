"""Contract harness for Slingr: its emulator, a source on it (typed entities), its raw records."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from tests.contract.backends import Roles

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
            for inner in f.fields:
                fields[f"{f.name}.{inner.name}"] = {"type": inner.type,
                                                    "multiple": f.multi or inner.multi}
            if f.type == "relationship":
                fields[f"{f.name}.id"] = {"type": "id"}
                fields[f"{f.name}.label"] = {"type": "text"}
        out[entity.name] = {"fields": fields}
    return out


class SlingrHarness:
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
    case_insensitive = False
    refused_auth = {"password": "wrong-password"}
    types = {"name": "string", "type": "string", "numberOfEmployees": "integer", "id": "string"}

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
        from connectors.slingr.emulator import SlingrEmulator

        kw = {"users": {"admin@example.com": "admin"}, "seed": 42, **emulator_kw}
        self._emu = SlingrEmulator(**kw)
        self._server = await server_factory(self._emu.app)

    def source(self, *, per_call: int | None = None, **extra: Any) -> dict[str, Any]:
        assert self._server is not None
        cfg: dict[str, Any] = {
            "type": "slingr",
            "baseUrl": str(self._server.make_url(BASE)),
            "timeout": 5,
            "retries": 2,
            "auth": {"email": "admin@example.com", "password": "admin"},
            "entities": entities_config(),
        }
        if per_call is not None:
            cfg["maxPerCall"] = per_call
        cfg.update(extra)
        return cfg

    def records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._emu.store.all(self.roles.entity)]

    def token_calls(self) -> int:
        return int(self._emu.calls("POST", "/auth/login"))

    def list_call_sizes(self) -> list[int]:
        path = f"{BASE}/data/{self.roles.entity}"
        return [int(c.query["_size"]) for c in self._emu.log
                if c.method == "GET" and c.path == path and "_size" in c.query]

    def create_path(self) -> str:
        return f"{BASE}/data/{self.roles.entity}"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["version"])


HARNESS = SlingrHarness
