"""CSV import (POST /data/{entity}/import) and export (PUT /data/{entity}/export), as jobs.

Headers are field paths: `name`, `contactInformation.email`, `phoneNumbers[0]`,
`addresses[1].state`; on import `company.name` writes into the related entity (matched by its
unique field, created when nothing matches) [SD-API]. Where the docs are silent:
- (inferred) import results are `{"recordsCreated", "recordsUpdated", "recordsWithErrors"}`;
  a refused row or header becomes an ERROR line in the job's logs and sets `hasErrors`;
- (inferred) a record is matched on the first unique field among the headers; an empty cell
  is a null value; a value matching several records is a row error;
- (inferred) export cells hold the REST (native) value: date-times as epoch ms, booleans as
  true/false, a relationship as its label, a file as its id; headers are labels joined the
  way names are (`Contact Information.Email`) unless `_useFieldNames=true`;
- (inferred) `_fields` naming an unknown field fails the job (no file); `_size` caps the
  number of records exported; the file is downloadable by the user who exported it.
"""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING, Any

from connectors.slingr.emulator.errors import SlingrError
from connectors.slingr.emulator.jobs import Jobs
from connectors.slingr.emulator.query import bad, parse_query, select
from connectors.slingr.emulator.records import Records, entity_of
from connectors.slingr.emulator.schema import ENTITIES, EntityDef, FieldDef
from connectors.slingr.emulator.store import FileData

if TYPE_CHECKING:
    from connectors.slingr.emulator.app import Req

__all__ = ["EXPORT_CAP", "Transfer"]

EXPORT_CAP = 1_000_000  # larger exports are a badRequest [SD-API]
_HEADER = re.compile(r"(\w+)(?:\[(\d+)\])?(?:\.(\w+))?")
_FLAGS = ("lowPriority", "updateCalculatedFields", "updateRelationships", "performValidations",
          "filterByAccessRules", "performSecurityChecks", "triggerEvents", "setDefaultValues",
          "supportTransientFields", "cascadeOperations", "skipRecordsWithInvalidFields")
Column = tuple[FieldDef, int | None, str | None]  # field, [index], .inner


def _cell(fdef: FieldDef, raw: str) -> Any:
    """A CSV cell in the field's REST write form; empty means null."""
    if raw == "":
        return None
    return raw.lower() if fdef.type == "boolean" else raw


def _errors_text(err: SlingrError) -> str:
    if err.errors:
        return "; ".join(f"{e['field']}: {e['message']}" for e in err.errors)
    return err.message


class Transfer:
    """Import and export for the data calls, reported through jobs."""

    def __init__(self, records: Records, jobs: Jobs) -> None:
        self.records = records
        self.jobs = jobs

    # --- import -----------------------------------------------------------------------------

    def import_csv(self, req: Req, entity_name: str, filename: str, data: bytes) -> Any:
        entity = entity_of(entity_name)
        for flag in _FLAGS:
            if req.query.get(flag, "true") not in ("true", "false"):
                raise bad(f"Invalid value [{req.query[flag]}] for [{flag}], true or false")
        assert req.session is not None
        job = self.jobs.start(req.session, "IMPORT_RECORDS",
                              f"Import records into entity {entity.name}",
                              {"entityName": entity.name, "fileName": filename},
                              low_priority=req.query.get("lowPriority") == "true")
        counts = {"recordsCreated": 0, "recordsUpdated": 0, "recordsWithErrors": 0}
        errors: list[str] = []
        try:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        except (UnicodeDecodeError, csv.Error) as exc:
            return self.jobs.finish(job, counts, has_errors=True,
                                    errors=[f"The file is not a valid UTF-8 CSV file: {exc}"])
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        try:
            columns = [self._column(entity, h.strip()) for h in header]
        except SlingrError as err:
            return self.jobs.finish(job, counts, has_errors=True, errors=[err.message])
        for line, row in enumerate(body, start=2):
            if not any(c.strip() for c in row):
                continue
            try:
                created = self._row(req, entity, columns, row)
            except SlingrError as err:
                counts["recordsWithErrors"] += 1
                errors.append(f"Row [{line}]: {_errors_text(err)}")
            else:
                counts["recordsCreated" if created else "recordsUpdated"] += 1
        return self.jobs.finish(job, counts, records=len(body), has_errors=bool(errors),
                                errors=errors)

    @staticmethod
    def _column(entity: EntityDef, header: str) -> Column:
        m = _HEADER.fullmatch(header)
        fdef = entity.field(m[1]) if m else None
        if m is None or fdef is None or fdef.calculated:
            raise bad(f"Invalid header [{header}]: no such field in entity [{entity.name}]")
        index = int(m[2]) if m[2] is not None else None
        inner = m[3]
        if fdef.type == "relationship" and inner is not None:
            target = ENTITIES[fdef.target or ""]
            if target.field(inner) is None:
                raise bad(f"Invalid header [{header}]: no field [{inner}] in [{target.name}]")
        elif fdef.type == "nested_fields":
            if inner is None or fdef.inner(inner) is None or (fdef.multi and index is None):
                raise bad(f"Invalid header [{header}]: give the path of a nested field")
        elif inner is not None or (index is not None and not fdef.multi):
            raise bad(f"Invalid header [{header}]")
        return fdef, index, inner

    def _row(self, req: Req, entity: EntityDef, columns: list[Column], row: list[str]) -> bool:
        """Create or update one record from a row; True when it was created."""
        body: dict[str, Any] = {}
        related: dict[str, dict[str, Any]] = {}
        for (fdef, index, inner), raw in zip(columns, row, strict=False):
            raw = raw.strip()
            if fdef.type == "relationship" and inner is not None:
                target = ENTITIES[fdef.target or ""]
                inner_def = target.field(inner)
                assert inner_def is not None
                related.setdefault(fdef.name, {})[inner] = _cell(inner_def, raw)
            elif fdef.type == "nested_fields" and inner is not None:
                inner_def = fdef.inner(inner)
                assert inner_def is not None
                if fdef.multi:
                    items = body.setdefault(fdef.name, {})
                    items.setdefault(index, {})[inner] = _cell(inner_def, raw)
                else:
                    body.setdefault(fdef.name, {})[inner] = _cell(inner_def, raw)
            elif fdef.multi:
                body.setdefault(fdef.name, {})[index or 0] = _cell(fdef, raw)
            else:
                body[fdef.name] = _cell(fdef, raw)
        for fdef in entity.fields:  # indexed cells → lists, in index order, empties dropped
            value = body.get(fdef.name)
            if fdef.multi and isinstance(value, dict):
                body[fdef.name] = [v for _, v in sorted(value.items())
                                   if v is not None and v != {} and not (
                                       isinstance(v, dict) and all(x is None
                                                                   for x in v.values()))]
        for name, values in related.items():
            rel = entity.field(name)
            assert rel is not None and rel.target is not None
            body[name] = self._related(req, ENTITIES[rel.target], values)
        return self._upsert(req, entity, body)

    def _related(self, req: Req, target: EntityDef, values: dict[str, Any]) -> Any:
        if all(v is None for v in values.values()):
            return None
        saved_id = self._match(target, values)
        if saved_id is None:
            return {"id": self.records.create(target.name, values, actor=req.actor(),
                                              context="import")["id"]}
        self.records.update(target.name, saved_id, values, actor=req.actor(), context="import")
        return {"id": saved_id}

    def _upsert(self, req: Req, entity: EntityDef, body: dict[str, Any]) -> bool:
        found = self._match(entity, body)
        if found is None:
            self.records.create(entity.name, body, actor=req.actor(), context="import")
            return True
        self.records.update(entity.name, found, body, actor=req.actor(), context="import")
        return False

    def _match(self, entity: EntityDef, values: dict[str, Any]) -> str | None:
        """The id of the record whose first unique field among `values` matches, if any."""
        key = next((f for f in entity.fields if f.unique and f.name in values), None)
        if key is None or values[key.name] is None:
            return None
        hits = [r["id"] for r in self.records.store.all(entity.name)
                if r.get(key.name) == values[key.name]]
        if len(hits) > 1:
            raise bad(f"Value [{values[key.name]}] of unique field [{key.name}] matches "
                      f"{len(hits)} records in entity [{entity.name}]")
        return hits[0] if hits else None

    # --- export -----------------------------------------------------------------------------

    def export_csv(self, req: Req, entity_name: str, base: str) -> Any:
        entity = entity_of(entity_name)
        matched = select(parse_query(entity, req.query, paging=False),
                         self.records.store.all(entity.name))
        size = req.query.get("_size")
        if size is not None:
            if not re.fullmatch(r"\d+", size) or int(size) < 1:
                raise bad(f"Invalid size [{size}]")
            matched = matched[:int(size)]
        if len(matched) > EXPORT_CAP:
            raise bad(f"Cannot export more than {EXPORT_CAP} records")
        names = req.query.get("_useFieldNames", "false")
        if names not in ("true", "false"):
            raise bad(f"Invalid value [{names}] for [_useFieldNames], true or false")
        assert req.session is not None
        job = self.jobs.start(req.session, "EXPORT_RECORDS",
                              f"Export records from entity {entity.name}",
                              {"entityName": entity.name})
        wanted = [f.strip() for f in req.query.get("_fields", "").split(",") if f.strip()]
        unknown = [w for w in wanted if not self._exportable(entity, w)]
        if unknown:
            return self.jobs.finish(job, {"recordsExported": 0}, has_errors=True, errors=[
                f"Field [{w}] does not exist in entity [{entity.name}]" for w in unknown])
        paths = wanted or [f.name for f in entity.fields]
        header: list[str] = []
        getters: list[Any] = []
        for path in paths:
            for title, get in self._columns(entity, path, matched, names == "true"):
                header.append(title)
                getters.append(get)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for record in matched:
            writer.writerow(["" if (v := get(record)) is None else
                             ("true" if v is True else "false" if v is False else str(v))
                             for get in getters])
        fid = self.records.store.new_id()
        self.records.store.files[fid] = FileData(
            fid, f"{entity.name}.csv", "text/csv", out.getvalue().encode(),
            self.records.store.clock(), owner=req.session.email)
        return self.jobs.finish(job, {"fileLink": f"{req.origin}{base}/files/{fid}",
                                      "fileId": fid, "recordsExported": len(matched)},
                                records=len(matched))

    @staticmethod
    def _exportable(entity: EntityDef, path: str) -> bool:
        head, _, inner = path.partition(".")
        fdef = entity.field(head)
        if fdef is None:
            return False
        if not inner:
            return True
        if fdef.type == "relationship":
            return ENTITIES[fdef.target or ""].field(inner) is not None
        return fdef.type == "nested_fields" and fdef.inner(inner) is not None

    def _columns(self, entity: EntityDef, path: str, records: list[dict[str, Any]],
                 by_name: bool) -> list[tuple[str, Any]]:
        """(header, value getter) per CSV column of one exported path."""
        head, _, inner = path.partition(".")
        fdef = entity.field(head)
        assert fdef is not None
        title = fdef.name if by_name else fdef.label
        if fdef.type == "relationship":
            if not inner:
                return [(title, lambda r: (r.get(head) or {}).get("label"))]
            target = ENTITIES[fdef.target or ""]
            tdef = target.field(inner)
            assert tdef is not None
            store = self.records.store

            def related(r: dict[str, Any]) -> Any:
                ref = (r.get(head) or {}).get("id")
                rec = store.get(target.name, ref) if ref else None
                return None if rec is None else rec.get(inner)
            return [(f"{title}.{inner if by_name else tdef.label}", related)]
        if fdef.type == "file":
            return [(title, lambda r: (r.get(head) or {}).get("id"))]
        if fdef.type == "nested_fields":
            inners = [i for i in fdef.fields if not inner or i.name == inner]
            if not fdef.multi:
                return [(f"{title}.{i.name if by_name else i.label}",
                         lambda r, n=i.name: (r.get(head) or {}).get(n)) for i in inners]
            count = max([len(r.get(head) or []) for r in records] + [1])
            return [(f"{title}[{k}].{i.name if by_name else i.label}",
                     lambda r, k=k, n=i.name: _nth(r.get(head), k, n))
                    for k in range(count) for i in inners]
        if fdef.multi:
            count = max([len(r.get(head) or []) for r in records] + [1])
            return [(f"{title}[{k}]", lambda r, k=k: _nth(r.get(head), k, None))
                    for k in range(count)]
        return [(title, lambda r: r.get(head))]


def _nth(values: Any, k: int, inner: str | None) -> Any:
    if not isinstance(values, list) or k >= len(values):
        return None
    return values[k] if inner is None else values[k].get(inner)
