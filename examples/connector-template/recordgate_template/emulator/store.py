"""The template backend's data: tasks in memory, with a version each; no gateway code here."""

from __future__ import annotations

import random
import uuid
from typing import Any

__all__ = ["SCHEMA", "Store", "ValidationError"]

# The backend's own metadata: entity -> field -> its type ("text", "int", "timestamp").
SCHEMA: dict[str, dict[str, str]] = {
    "tasks": {"title": "text", "status": "text", "priority": "int", "due": "timestamp"},
}
_WORDS = ["alpha", "Alpha", "beta", "Blue", "black", "blink", "Bravo", "delta", "Delta",
          "echo", "apple", "Apricot", "zulu", "ÉCLAIR", "Straße", "omega"]
_STATUSES = ["open", "done", "blocked", "Open", None]


class ValidationError(Exception):
    """A record the backend refuses, and the field it names."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Store:
    """Records per entity; ids are UUIDs, ``version`` counts writes (optimistic locking)."""

    def __init__(self, seed: int = 7, size: int = 180) -> None:
        self._rng = random.Random(seed)
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMA}
        for i in range(size):
            self._put("tasks", self._sample(i))

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _sample(self, i: int) -> dict[str, Any]:
        rng = self._rng
        title: str | None = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {i}"
        if i % 37 == 0:
            title = None
        elif i % 41 == 0:
            title = ""
        return {
            "title": title,
            "status": rng.choice(_STATUSES),
            "priority": rng.choice([1, 2, 3, 5, 8, None]),
            "due": f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}T"
                   f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:00Z",
        }

    def _put(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        record = {"id": self._new_id(), **data, "version": 1}
        self.rows[entity][record["id"]] = record
        return record

    def all(self, entity: str) -> list[dict[str, Any]]:
        return list(self.rows[entity].values())

    def _check(self, entity: str, data: dict[str, Any], creating: bool) -> dict[str, Any]:
        fields = SCHEMA[entity]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValidationError(unknown[0], f"unknown field {unknown[0]}")
        if creating and not data.get("title"):
            raise ValidationError("title", "a task needs a title")
        for name, value in data.items():
            if fields[name] == "int" and value is not None and (
                    not isinstance(value, int) or isinstance(value, bool)):
                raise ValidationError(name, f"{name} must be an integer")
        return data

    def create(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        return dict(self._put(entity, self._check(entity, data, creating=True)))

    def update(self, entity: str, rid: str, data: dict[str, Any],
               version: int | None) -> dict[str, Any] | None:
        """The updated record, None if absent; ``ValueError`` for a stale version."""
        record = self.rows[entity].get(rid)
        if record is None:
            return None
        if version is not None and version != record["version"]:
            raise ValueError(f"version {version} is stale; current is {record['version']}")
        record.update(self._check(entity, data, creating=False))
        record["version"] += 1
        return dict(record)

    def delete(self, entity: str, rid: str) -> bool:
        return self.rows[entity].pop(rid, None) is not None
