"""Record history (audit logs): entries written by creates, updates, actions and deletes.

Served on GET /data/{entity}/{id}/history and GET /data/{entity}/history, and on the newer
names of the same calls, /auditLogs [SD-API]. Where the documentation is silent:
- (inferred) an update lists the fields the write carried whose stored value changed (a
  missing value replaced by an empty list counts, as the seed's `addresses` entry shows) plus
  calculated fields that changed; a write that changed nothing leaves no entry;
- (inferred) `text` is `{name:value}`, `{}` for an empty value, nested values as `{k:v,...}`;
- (inferred) a create's `newRecord` holds the fields the write carried (nulls included, as
  the seed's sample shows) and the calculated ones; nested groups add `nestedFieldLabel`;
- (inferred) deleting a record sets `recordDeleted`/`deletionDate` on all of its entries;
- (inferred) `_size` above 1,000 is clamped; `_offset` is an entry id ("older than this").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from connectors.slingr.emulator.errors import SlingrError
from connectors.slingr.emulator.schema import EntityDef, FieldDef
from connectors.slingr.emulator.store import RecordStore

__all__ = ["EVENT_TYPES", "Actor", "AuditLog"]

Record = dict[str, Any]
EVENT_TYPES = frozenset({
    "USER_RECORD_CREATED", "USER_RECORD_CHANGED", "USER_RECORD_DELETED", "USER_ACTION_PERFORMED",
    "SCRIPT_RECORD_CREATED", "SCRIPT_RECORD_CHANGED", "SCRIPT_RECORD_DELETED",
    "SCRIPT_ACTION_PERFORMED", "SYSTEM_CASCADE_UPDATE", "SYSTEM_REFACTORING"})
_HEX24 = re.compile(r"[0-9a-f]{24}")


def bad(message: str) -> SlingrError:
    return SlingrError(400, "badRequest", message)


@dataclass(frozen=True)
class Actor:
    """Who made a change: the session's user email and the caller's IP."""

    email: str
    ip: str | None


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _flat(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_flat(v) for v in value) + "]"
    return str(value)


def _change(name: str, value: Any) -> dict[str, Any]:
    if _empty(value):
        return {"json": None, "text": "{}"}
    return {"json": value, "text": "{" + f"{name}:{_flat(value)}" + "}"}


def _group(fdef: FieldDef, saved: Any, sent: Any) -> Record:
    saved = saved if isinstance(saved, dict) else {}
    sent = sent if isinstance(sent, dict) else {}
    out: Record = {f.name: saved.get(f.name) for f in fdef.fields if f.name in sent}
    out.update({"id": saved.get("id"), "nestedFieldLabel": fdef.label,
                "label": saved.get("label")})
    return out


def _snapshot_value(fdef: FieldDef, saved: Any, sent: Any) -> Any:
    if fdef.type != "nested_fields":
        return None if _empty(saved) else saved
    if not fdef.multi:
        return None if saved is None else _group(fdef, saved, sent)
    items = sent if isinstance(sent, list) else []
    return [_group(fdef, item, items[i] if i < len(items) else item)
            for i, item in enumerate(saved or [])] or None


class AuditLog:
    """Every entry of every entity, oldest first; the API answers newest first."""

    # The docs' app was at metadata version 57 in every sample; the emulator's never changes.
    entity_version = 57

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.entries: list[Record] = []

    # --- writing --------------------------------------------------------------------------------

    def _add(self, entity: EntityDef, record: Record, actor: Actor, event: str, context: str,
             old: Record, new: Record) -> Record:
        timestamp = self.store.clock()
        entry = {
            "id": self.store.new_id(), "entityId": entity.id, "entityName": entity.name,
            "entityVersion": self.entity_version, "recordId": record["id"],
            "recordName": record.get("label"), "user": actor.email, "timestamp": timestamp,
            "ip": actor.ip, "eventType": event, "eventCategory": event.split("_", 1)[0],
            "contextPath": f"entities.{entity.name}.{context}", "recordDeleted": None,
            "deletionDate": None, "oldRecord": old, "newRecord": new,
        }
        self.entries.append(entry)
        return entry

    def created(self, entity: EntityDef, saved: Record, sent: Record, actor: Actor,
                context: str = "create") -> None:
        new = {f.name: _snapshot_value(f, saved.get(f.name), sent.get(f.name))
               for f in entity.fields if f.name in sent or (f.calculated and f.name in saved)}
        self._add(entity, saved, actor, "USER_RECORD_CREATED", context, {}, new)

    def changed(self, entity: EntityDef, old: Record, saved: Record, names: Iterable[str],
                actor: Actor, *, event: str = "USER_RECORD_CHANGED",
                context: str = "update") -> None:
        names = list(names)
        if not names and event == "USER_RECORD_CHANGED":
            return
        self._add(entity, saved, actor, event, context,
                  {n: _change(n, old.get(n)) for n in names},
                  {n: _change(n, saved.get(n)) for n in names})

    def deleted(self, entity: EntityDef, record: Record, actor: Actor) -> None:
        old = {f.name: _snapshot_value(f, record.get(f.name), record.get(f.name))
               for f in entity.fields if not _empty(record.get(f.name))}
        entry = self._add(entity, record, actor, "USER_RECORD_DELETED", "delete", old, {})
        for e in self.entries:
            if e["entityName"] == entity.name and e["recordId"] == record["id"]:
                e["recordDeleted"], e["deletionDate"] = True, entry["timestamp"]

    # --- reading --------------------------------------------------------------------------------

    def for_record(self, entity: EntityDef, record_id: str,
                   params: MultiMapping[str]) -> Record:
        """A record's entries, also for a deleted or unknown record (no notFound) [SD-API]."""
        if not _HEX24.fullmatch(record_id):
            raise bad(f"Invalid record ID [{record_id}]")
        return self._page([e for e in self.entries if e["entityName"] == entity.name
                           and e["recordId"] == record_id], params)

    def for_entity(self, entity: EntityDef, params: MultiMapping[str]) -> Record:
        """All entries of the entity, filtered by `eventTypes`, `from` and `to` (epoch ms)."""
        entries = [e for e in self.entries if e["entityName"] == entity.name]
        if "eventTypes" in params:
            wanted = {t.strip() for t in params["eventTypes"].split(",") if t.strip()}
            unknown = sorted(wanted - EVENT_TYPES)
            if unknown:
                raise bad(f"Invalid event types {unknown}")
            entries = [e for e in entries if e["eventType"] in wanted]
        for key, sign in (("from", 1), ("to", -1)):
            raw = params.get(key)
            if raw is None:
                continue
            if not re.fullmatch(r"\d+", raw):
                raise bad(f"Invalid [{key}] timestamp [{raw}], it must be milliseconds")
            bound = int(raw)  # inclusive at both ends (inferred)
            entries = [e for e in entries if (e["timestamp"] - bound) * sign >= 0]
        return self._page(entries, params)

    @staticmethod
    def _page(entries: list[Record], params: MultiMapping[str]) -> Record:
        newest_first = entries[::-1]
        size = params.get("_size", "20")
        if not re.fullmatch(r"\d+", size) or int(size) < 1:
            raise bad(f"Invalid size [{size}]")
        rows = newest_first
        offset = params.get("_offset")
        if offset:
            if not _HEX24.fullmatch(offset):
                raise bad(f"Invalid offset [{offset}], it must be the ID of a history log")
            ids = [e["id"] for e in newest_first]
            rows = (newest_first[ids.index(offset) + 1:] if offset in ids
                    else [e for e in newest_first if e["id"] < offset])
        page = rows[:min(int(size), 1000)]
        return {"total": len(newest_first), "offset": page[-1]["id"] if page else None,
                "items": page}
