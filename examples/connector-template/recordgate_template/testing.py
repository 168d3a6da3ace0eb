"""The template's harness for recordgate's conformance kit (gateway.testing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.testing import EmulatorHarness, Roles

__all__ = ["TemplateHarness"]


class TemplateHarness(EmulatorHarness):
    type = "template"
    roles = Roles(
        entity="tasks",
        text="title",
        category="status",
        datetime="due",
        number="priority",
        writable={"title": "Contract Test Task", "status": "open", "priority": 3},
        invalid={"status": "open"},  # a task needs a title
    )
    types = {"title": "string", "status": "string", "due": "datetime", "priority": "integer",
             "id": "string"}
    case_insensitive = False
    refused_auth = {"password": "wrong-password"}
    volatile_fields = frozenset({"version"})
    token_path = "/auth/login"

    def make_emulator(self, **kw: Any) -> Any:
        from recordgate_template.emulator import TemplateEmulator

        return TemplateEmulator(**kw)

    def base_source(self, url: Callable[[str], str]) -> dict[str, Any]:
        return {"baseUrl": url("/"), "auth": {"username": "admin", "password": "admin"}}

    def list_call_sizes(self) -> list[int]:
        return [int(c.query["limit"]) for c in self._emu.log
                if c.method == "GET" and c.path == f"/api/{self.roles.entity}"
                and "limit" in c.query]

    def create_path(self) -> str:
        return f"/api/{self.roles.entity}"

    def version_of(self, record: dict[str, Any]) -> str:
        return str(record["version"])
