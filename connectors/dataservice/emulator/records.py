"""EntityService record calls: read, query, insert, update, delete and their batch forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.dataservice.emulator.errors import DsError, problem
from connectors.dataservice.emulator.query import (
    apply_order,
    compile_group,
    render,
    sort_keys,
    sorted_rows,
)
from connectors.dataservice.emulator.schema import EntityDef
from connectors.dataservice.emulator.store import RecordStore
from connectors.dataservice.emulator.values import FieldError

__all__ = ["Records", "int_param", "not_found"]

Row = dict[str, Any]
DEFAULT_LIMIT = 100
DEFAULT_EXPANSION = 2


def int_param(query: Mapping[str, str], name: str, default: int) -> int:
    """ASP.NET model binding of an int query parameter (an empty value is a 400 [UP-GH #1017])."""
    if name not in query:
        return default
    raw = query[name]
    if raw.strip() == "":
        raise problem({name: ["The value '' is invalid."]})
    try:
        return int(raw)
    except ValueError:
        raise problem({name: [f"The value '{raw}' is not valid."]}) from None


def bool_param(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    if raw.strip().lower() not in ("true", "false"):
        raise problem({name: [f"The value '{raw}' is not valid."]})
    return raw.strip().lower() == "true"


def not_found(entity: EntityDef, record_id: str) -> DsError:
    return DsError(404, f"Record with Id '{record_id}' does not exist in entity '{entity.name}'.")


class Records:
    """Record calls for one store; knobs: max_limit, batch_limit, batch_failure_status."""

    def __init__(self, store: RecordStore, max_limit: int) -> None:
        self.store = store
        self.max_limit = max_limit
        self.batch_limit = 1000
        # Per-record batch failures answer 200 by default; 400 is the other shape seen [UP-PY].
        self.batch_failure_status = 200

    # --- helpers -----------------------------------------------------------------------------

    def expansion(self, query: Mapping[str, str]) -> int:
        level = int_param(query, "expansionLevel", DEFAULT_EXPANSION)
        if not 0 <= level <= 3:
            raise DsError(400, "expansionLevel must be 1, 2 or 3.")
        return level

    def render(self, entity: EntityDef, row: Row, level: int, full_text: bool = False,
               selected: list[str] | None = None) -> Row:
        return render(entity, row, level, self.store.row, full_text, selected)

    def _row(self, entity: EntityDef, record_id: str) -> Row:
        row = self.store.row(entity.name, record_id)
        if row is None:
            raise not_found(entity, record_id)
        return row

    def _page(self, start: int, limit: int) -> tuple[int, int]:
        if start < 0:
            raise DsError(400, "start must be 0 or greater.")
        if limit < 1:
            raise DsError(400, "limit must be greater than 0.")
        return start, min(limit, self.max_limit)  # above the cap: clamped (inferred)

    def _envelope(self, entity: EntityDef, rows: list[Row], start: int, limit: int, level: int,
                  selected: list[str] | None = None) -> Row:
        page = rows[start:start + limit]
        return {"totalRecordCount": len(rows),
                "value": [self.render(entity, r, level, selected=selected) for r in page]}

    # --- reads -------------------------------------------------------------------------------

    def list(self, entity: EntityDef, query: Mapping[str, str]) -> Row:
        """GET …/read: start/limit/expansionLevel only; $filter and friends are ignored."""
        level = self.expansion(query)
        start, limit = self._page(int_param(query, "start", 0),
                                  int_param(query, "limit", DEFAULT_LIMIT))
        rows = sorted_rows(self.store, entity, [])
        if rows is None:
            rows = apply_order(entity, self.store.rows(entity.name), [])
        return self._envelope(entity, rows, start, limit, level)

    def read(self, entity: EntityDef, record_id: str, query: Mapping[str, str],
             full_text: bool) -> Row:
        level = self.expansion(query)
        return self.render(entity, self._row(entity, record_id), level, full_text=full_text)

    def query(self, entity: EntityDef, body: Any, query: Mapping[str, str]) -> Row:
        level = self.expansion(query)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise problem({"$": ["The JSON value could not be converted to QueryRequest."]})
        start, limit = body.get("start", 0), body.get("limit", DEFAULT_LIMIT)
        for name, value in (("start", start), ("limit", limit)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise problem({f"$.{name}": ["The JSON value could not be converted to "
                                             "System.Int32."]})
        start, limit = self._page(start or 0, DEFAULT_LIMIT if limit is None else limit)
        selected = body.get("selectedFields") or None
        if selected is not None:
            if not isinstance(selected, list) or not all(isinstance(s, str) for s in selected):
                raise problem({"$.selectedFields": ["The JSON value could not be converted to "
                                                    "System.String[]."]})
            for name in selected:
                if name not in entity.fields:
                    raise DsError(400, f"Field '{name}' does not exist in entity "
                                       f"'{entity.name}'.")
        match = compile_group(entity, body.get("filterGroup"))
        stored = self.store.rows(entity.name)
        matched = stored if body.get("filterGroup") is None else [r for r in stored if match(r)]
        keys = sort_keys(entity, body.get("sortOptions"))
        ordered = sorted_rows(self.store, entity, keys)
        if ordered is None:
            rows = apply_order(entity, matched, keys)
        elif len(matched) == len(stored):
            rows = ordered
        else:  # the sorted rows that matched: filtering keeps the order
            chosen = {id(r) for r in matched}
            rows = [r for r in ordered if id(r) in chosen]
        return self._envelope(entity, rows, start, limit, level, selected)

    # --- single writes -----------------------------------------------------------------------

    def insert(self, entity: EntityDef, body: Any, query: Mapping[str, str], user: str) -> Row:
        level = self.expansion(query)
        try:
            row = self.store.create(entity.name, body, user)
        except FieldError as err:
            raise DsError(400, str(err)) from None
        return self.render(entity, row, level, full_text=True)

    def update(self, entity: EntityDef, record_id: str, body: Any, query: Mapping[str, str],
               user: str) -> Row:
        level = self.expansion(query)
        row = self._row(entity, record_id)
        try:
            self.store.update(entity.name, row, body, user)
        except FieldError as err:
            raise DsError(400, str(err)) from None
        return self.render(entity, row, level, full_text=True)

    def delete(self, entity: EntityDef, record_id: str) -> bool:
        self.store.delete(entity.name, self._row(entity, record_id))
        return True

    # --- batches -----------------------------------------------------------------------------

    def batch(self, kind: str, entity: EntityDef, body: Any, query: Mapping[str, str],
              user: str) -> tuple[int, Row]:
        """insert-batch, update-batch, delete-batch: array order, failOnFirst, both lists."""
        level = self.expansion(query) if kind != "delete" else 0
        fail_on_first = bool_param(query, "failOnFirst")
        if not isinstance(body, list):
            raise problem({"$": ["The JSON value could not be converted to an array."]})
        if len(body) > self.batch_limit:
            raise DsError(400, f"A batch can hold at most {self.batch_limit} records.")
        successes: list[Row] = []
        failures: list[Row] = []
        for item in body:
            try:
                successes.append(self._one(kind, entity, item, level, user))
            except (FieldError, DsError) as err:
                submitted = {"Id": item} if kind == "delete" else item
                failures.append({"error": str(err), "record": submitted})
                if fail_on_first:
                    break
        status = self.batch_failure_status if failures else 200
        return status, {"successRecords": successes, "failureRecords": failures}

    def _one(self, kind: str, entity: EntityDef, item: Any, level: int, user: str) -> Row:
        if kind == "insert":
            return self.render(entity, self.store.create(entity.name, item, user), level)
        if kind == "update":
            if not isinstance(item, dict):
                raise FieldError("The record must be a JSON object.")
            record_id = item.get("Id")
            if not isinstance(record_id, str) or not record_id:
                raise FieldError("The record Id is missing.")
            row = self._row(entity, record_id)
            self.store.update(entity.name, row, item, user)
            return self.render(entity, row, level)
        if not isinstance(item, str):
            raise FieldError("A record Id must be a string.")
        row = self._row(entity, item)
        shown = self.render(entity, row, 0)
        self.store.delete(entity.name, row)
        return shown
