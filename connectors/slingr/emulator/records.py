"""Record operations of the runtime API: list, read, create, update, delete, answer rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from multidict import MultiMapping

from connectors.slingr.emulator.errors import SlingrError, not_found_entity, validation_error
from connectors.slingr.emulator.history import Actor, AuditLog
from connectors.slingr.emulator.query import (
    bad,
    parse_fields,
    parse_query,
    run,
    select,
    sorted_records,
)
from connectors.slingr.emulator.schema import ENTITIES, EntityDef, FieldDef
from connectors.slingr.emulator.store import RecordStore
from connectors.slingr.emulator.values import coerce_changes

__all__ = ["Records", "entity_of"]

Record = dict[str, Any]


def entity_of(name: str) -> EntityDef:
    entity = ENTITIES.get(name)
    if entity is None:
        raise not_found_entity(name)
    return entity


def _record_not_found(entity: str, record_id: str) -> SlingrError:
    return SlingrError(404, "notFound", f"Record [{record_id}] not found in entity [{entity}]")


def _plain(fdef: FieldDef, value: Any) -> Any:
    """`_format=plainText`: the value as the UI shows it (inferred display forms)."""
    if fdef.multi and fdef.type != "nested_fields":
        return [_plain_one(fdef, v) for v in value]
    return _plain_one(fdef, value)


def _plain_one(fdef: FieldDef, value: Any) -> Any:
    t = fdef.type
    if t == "nested_fields":
        if isinstance(value, list):
            return [_plain_group(fdef, v) for v in value]
        return _plain_group(fdef, value)
    if t == "boolean":
        return "Yes" if value else "No"
    if t in ("date_time", "date_record_modified"):  # display form yyyy-MM-dd HH:mm [SD-DRM]
        moment = datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)
        return moment.isoformat(sep=" ", timespec="minutes")  # strftime drops year 0001's zeros
    if t == "choice":
        return dict(fdef.choices).get(value, value)
    if t in ("relationship", "file"):
        return value.get("label") or value.get("name")
    return str(value)


def _plain_group(fdef: FieldDef, group: Record) -> Record:
    out = {k: (_plain(inner, v) if (inner := fdef.inner(k)) else v) for k, v in group.items()}
    return out


class Records:
    """The data calls, on top of a RecordStore; raise SlingrError for every refused call."""

    def __init__(self, store: RecordStore, audit: AuditLog | None = None) -> None:
        self.store = store
        self.audit = audit  # history entries for writes that name an actor

    # --- rendering ----------------------------------------------------------------------------

    def render(self, entity: EntityDef, record: Record, params: MultiMapping[str]) -> Record:
        fields = parse_fields(entity, params.get("_fields"))
        fmt = params.get("_format", "native")
        if fmt not in ("native", "plainText"):
            raise bad(f"Invalid format [{fmt}], it must be native or plainText")
        fetch = [f.strip() for f in params.get("_relationshipsToFetch", "").split(",")
                 if f.strip()]
        for name in fetch:
            fdef = entity.field(name)
            if fdef is None or fdef.type != "relationship":
                raise bad(f"Field [{name}] is not a relationship in entity [{entity.name}]")
        return self._shape(entity, record, fields, fmt, fetch)

    def _shape(self, entity: EntityDef, record: Record, fields: list[str] | None, fmt: str,
               fetch: list[str]) -> Record:
        out: Record = {}
        for key, value in record.items():
            if key in ("id", "version", "label") or fields is None:
                out[key] = value
                continue
            if key in fields:
                out[key] = value
                continue
            inner = [f.split(".", 1)[1] for f in fields if f.startswith(key + ".")]
            if not inner:
                continue
            if isinstance(value, list):
                out[key] = [_pick(item, inner) for item in value]
            elif isinstance(value, dict):
                out[key] = _pick(value, inner)
        for name in fetch:
            ref = out.get(name)
            fdef = entity.field(name)
            if isinstance(ref, dict) and fdef is not None and fdef.target is not None:
                target = self.store.get(fdef.target, ref["id"])
                if target is not None:
                    out[name] = dict(target)  # the related record embedded (inferred shape)
        if fmt == "plainText":
            for key, value in list(out.items()):
                fdef = entity.field(key)
                if fdef is not None and key not in fetch:
                    out[key] = _plain(fdef, value)
        return out

    # --- reads --------------------------------------------------------------------------------

    def get(self, entity_name: str, record_id: str) -> Record:
        entity_of(entity_name)
        record = self.store.get(entity_name, record_id)
        if record is None:
            raise _record_not_found(entity_name, record_id)
        return record

    def read(self, entity_name: str, record_id: str, params: MultiMapping[str]) -> Record:
        return self.render(entity_of(entity_name), self.get(entity_name, record_id), params)

    def find(self, entity_name: str, params: MultiMapping[str]) -> Record:
        entity = entity_of(entity_name)
        query = parse_query(entity, params)
        query.tie = self.store.tie_key
        ordered = sorted_records(self.store, entity_name, query)
        if ordered is None:
            total, offset, page = run(query, self.store.all(entity_name))
        else:
            total, offset, page = run(query, ordered, in_order=True)
        return {"total": total, "offset": offset,
                "items": [self.render(entity, r, params) for r in page]}

    def matching(self, entity_name: str, params: MultiMapping[str]) -> list[Record]:
        """Every record a query matches, in its order (delete or action over a query)."""
        entity = entity_of(entity_name)
        query = parse_query(entity, params, paging=False)
        query.tie = self.store.tie_key
        ordered = sorted_records(self.store, entity_name, query)
        if ordered is None:
            return select(query, self.store.all(entity_name))
        return select(query, ordered, in_order=True)

    # --- writes -------------------------------------------------------------------------------

    def create(self, entity_name: str, body: Any, *, actor: Actor | None = None,
               context: str = "create") -> Record:
        entity = entity_of(entity_name)
        if not isinstance(body, dict):
            raise bad("The body must be a JSON object with the record's fields")
        record, errors = coerce_changes(entity, body, None, self.store)
        if errors:
            raise validation_error(errors)
        record.pop("id", None)
        record["version"] = 0
        self._calculate(entity, record)
        saved = self.store.insert(entity_name, record)
        if self.audit is not None and actor is not None:
            self.audit.created(entity, saved, body, actor, context)
        return saved

    def update(self, entity_name: str, record_id: str, body: Any, *,
               actor: Actor | None = None, context: str = "update",
               event: str = "USER_RECORD_CHANGED") -> Record:
        entity = entity_of(entity_name)
        old = self.get(entity_name, record_id)
        if not isinstance(body, dict):
            raise bad("The body must be a JSON object with the record's fields")
        if "version" in body and body["version"] is not None and body["version"] != old["version"]:
            raise SlingrError(409, "optimisticLocking",
                              f"Record [{record_id}] was modified by another user: version "
                              f"[{body['version']}] does not match [{old['version']}]")
        record, errors = coerce_changes(entity, body, old, self.store)
        if errors:
            raise validation_error(errors)
        record["id"], record["version"] = old["id"], old["version"] + 1
        self._calculate(entity, record)
        saved = self.store.put(entity_name, record)
        if saved["label"] != old["label"]:
            self._relabel(entity_name, saved)
        if self.audit is not None and actor is not None:
            changed = [f.name for f in entity.fields
                       if (f.calculated and old.get(f.name) != saved.get(f.name))
                       or (not f.calculated and f.name in body
                           and record.get(f.name) != old.get(f.name))]
            self.audit.changed(entity, old, saved, changed, actor, event=event,
                               context=context)
        return saved

    def touch(self, entity_name: str, record_id: str, *, actor: Actor | None = None,
              action: str = "") -> Record:
        """A save with no changes (what an action that saves the record does)."""
        return self.update(entity_name, record_id, {}, actor=actor,
                           context=f"actions.{action}", event="USER_ACTION_PERFORMED")

    def delete(self, entity_name: str, record_id: str, *, actor: Actor | None = None) -> Record:
        self.get(entity_name, record_id)
        deleted = self.store.delete(entity_name, record_id)
        if self.audit is not None and actor is not None:
            self.audit.deleted(entity_of(entity_name), deleted, actor)
        return deleted

    def with_entity(self, entity_name: str, record: Record) -> Record:
        """A record as delete-many answers show it: `entity` right after the system fields."""
        entity = entity_of(entity_name)
        head = {k: record[k] for k in ("id", "version", "label")}
        rest = {k: v for k, v in record.items() if k not in head}
        return {**head, "entity": {"id": entity.id, "name": entity.title}, **rest}

    def _calculate(self, entity: EntityDef, record: Record) -> None:
        """Date record modified fields take the clock (one read per save) [SD-DRM]."""
        modified = [f.name for f in entity.fields if f.type == "date_record_modified"]
        if modified:
            moment = self.store.clock()
            for name in modified:
                record[name] = moment

    def _relabel(self, entity_name: str, saved: Record) -> None:
        """A changed label is copied into every relationship pointing at the record."""
        for other in ENTITIES.values():
            for fdef in other.fields:
                if fdef.type != "relationship" or fdef.target != entity_name:
                    continue
                for rec in self.store.all(other.name):
                    ref = rec.get(fdef.name)
                    if isinstance(ref, dict) and ref.get("id") == saved["id"]:
                        ref["label"] = saved["label"]


def _pick(group: Record, inner: list[str]) -> Record:
    return {k: v for k, v in group.items() if k in inner or k in ("id", "label")}
