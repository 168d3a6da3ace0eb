"""Sugar's module endpoints: FilterApi lists and counts, ModuleApi CRUD, record format."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.sugarcrm.emulator.errors import SugarError
from connectors.sugarcrm.emulator.filters import (
    FilterContext,
    compile_filter,
    matches_everything,
)
from connectors.sugarcrm.emulator.schema import MODULES, FieldDef, ModuleDef
from connectors.sugarcrm.emulator.store import InvalidValue, RecordStore, coerce, iso, order_rows
from connectors.sugarcrm.emulator.values import (
    like_matches,
    parse_datetime,
    php_array,
    php_int,
    php_str,
    php_values,
)

__all__ = ["Records", "UserState", "php_empty"]

Row = dict[str, Any]
VALIDATION = "There were validation errors on the submitted data. Record was not saved."
_PHP_TYPES = {str: "string", int: "integer", float: "double", bool: "boolean"}


def php_empty(value: Any) -> bool:
    return value in (None, False, 0, "", "0") or (php_array(value) and not value)


def _invalid(message: str = "") -> SugarError:
    return SugarError(422, "invalid_parameter", message)


def not_found(record_id: Any, module: str) -> SugarError:
    return SugarError(404, "not_found",
                      f"Could not find record: {php_str(record_id)} in module: {module}")


@dataclass
class UserState:
    """Per-user sets the filter macros read: favorites, followed and recently viewed records."""

    favorites: set[tuple[str, str]] = field(default_factory=set)
    following: set[tuple[str, str]] = field(default_factory=set)
    tracked: set[tuple[str, str]] = field(default_factory=set)

    def ids(self, kind: str, module: str) -> set[str]:
        return {rid for mod, rid in getattr(self, kind) if mod == module}


def normalize_fields(value: Any) -> list[str] | None:
    """`fields` as a comma string (JSON link objects skipped) or an array; None when empty."""
    if php_empty(value):
        return None
    parts = php_values(value) if php_array(value) else php_str(value).split(",")
    names = [p.strip() for p in parts if isinstance(p, str) and p.strip() and "{" not in p]
    return names or None


@functools.lru_cache(maxsize=256)
def _layout(module: str, fields: tuple[str, ...] | None
            ) -> tuple[tuple[str, tuple[str, str, str] | None], ...]:
    """The names formatBean writes for `fields` (None: all), in order; for a field read through
    a link, (related module, local id field, related field) to read it with."""
    mod = MODULES[module]
    names = list(mod.fields) if fields is None else [
        *(f for f in fields if f in mod.fields), "id", "date_modified"]
    out: list[tuple[str, tuple[str, str, str] | None]] = []
    for name in names:
        fdef = mod.fields[name]
        if fdef.source == "non-db" and fdef.link:
            link = mod.links[fdef.link]
            out.append((name, (link.module, link.id_field, fdef.rname or "name")))
        else:
            out.append((name, None))
    return tuple(out)


class Records:
    """The module endpoints, over one store; `max_list_limit` mirrors Sugar's config clamp."""

    def __init__(self, store: RecordStore, users: Callable[[str], UserState],
                 max_list_limit: int | None = None, today: Callable[[], date] = date.today) -> None:
        self.store = store
        self.user_state = users
        self.max_list_limit = max_list_limit
        self.today = today

    # --- formatting -----------------------------------------------------------------------------

    def format(self, module: str, row: Row, fields: list[str] | None, user_id: str) -> Row:
        """SugarApi::formatBean for one row."""
        if row["deleted"]:
            return {"id": row["id"], "deleted": True}
        out: Row = {}
        for name, related in _layout(module, None if fields is None else tuple(fields)):
            if related is None:
                out[name] = row.get(name)
            else:
                other = self.store.live(related[0], row.get(related[1]))
                out[name] = None if other is None else other.get(related[2])
        state = self.user_state(user_id)
        key = (module, row["id"])
        if fields is None or "my_favorite" in fields:
            out["my_favorite"] = key in state.favorites
        if fields is None or "following" in fields:
            out["following"] = key in state.following
        out["locked_fields"] = []
        out["_acl"] = {"fields": {}}
        out["_module"] = module
        return out

    def context(self, module: str, user_id: str) -> FilterContext:
        state = self.user_state(user_id)
        return FilterContext(
            module=MODULES[module], lookup=self.store.live, user_id=user_id,
            favorites=state.ids("favorites", module), following=state.ids("following", module),
            tracked=state.ids("tracked", module), today=self.today())

    # --- FilterApi ------------------------------------------------------------------------------

    def _order(self, args: Row, mod: ModuleDef) -> list[tuple[str, bool]]:
        raw = args.get("order_by")
        if not isinstance(raw, str):  # an array order_by is ignored, as in SugarApi
            return []
        order: dict[str, bool] = {}
        for part in raw.split(","):
            name, _, direction = part.strip().partition(":")
            name = name.strip()
            if not name:
                continue
            if name not in mod.fields:
                raise _invalid(f"Non existing field: {name} in module: {mod.name}")
            order.setdefault(name, direction.strip().lower() != "desc")  # first one wins
        return list(order.items())

    def _limit(self, args: Row) -> int:
        limit = 20 if php_empty(args.get("max_num")) else php_int(args.get("max_num"))
        cap = self.max_list_limit
        if cap is not None and (limit < 1 or limit > cap):
            limit = cap
        return limit

    def _matching(self, module: str, args: Row, user_id: str,
                  order: list[tuple[FieldDef, bool]] | None = None) -> tuple[list[Row], bool]:
        """The rows the arguments select, and whether they are already in `order` (the store
        keeps each ordering between calls; when it cannot, the caller orders them)."""
        mod = MODULES[module]
        if not php_empty(args.get("filter_id")):
            raise not_found(args["filter_id"], "Filters")  # no saved filters exist here
        filt = args.get("filter")
        if filt == "":
            filt = None
        if filt is not None and not php_array(filt):
            raise _invalid(f"Unexpected filter type {_PHP_TYPES.get(type(filt), 'object')}.")
        ctx = self.context(module, user_id)
        pred = compile_filter(filt or [], ctx)
        extra = []
        if not php_empty(args.get("my_items")):
            extra.append(compile_filter([{"$owner": "_this"}], ctx))
        if not php_empty(args.get("favorites")):
            extra.append(compile_filter([{"$favorite": "_this"}], ctx))
        q = args.get("q")
        if not php_empty(q):
            pattern = php_str(q) + "%"
            extra.append(lambda r: any(like_matches(php_str(r.get(f)), pattern)
                                       for f in mod.search_fields if r.get(f) is not None))
        include_deleted = not php_empty(args.get("deleted"))
        ordered = None if order is None else self.store.ordered(module, order, include_deleted)
        stored = self.store.rows(module, include_deleted) if ordered is None else ordered
        if extra:
            rows = [r for r in stored if pred(r) and all(p(r) for p in extra)]
        elif matches_everything(pred):
            rows = list(stored)
        else:
            rows = [r for r in stored if pred(r)]
        return rows, ordered is not None

    def filter_list(self, module: str, args: Row, user_id: str) -> Row:
        if not php_empty(args.get("q")) and any(
                not php_empty(args.get(k)) for k in ("filter", "filter_id", "deleted")):
            raise _invalid("Invalid parameter")  # search cannot be combined with these
        limit = self._limit(args)
        offset_arg = args.get("offset")
        order = self._order(args, MODULES[module])
        fields = normalize_fields(args.get("fields"))
        order = order or [("date_modified", False)]
        if "id" not in dict(order):  # stability: id in the direction of the last key
            order.append(("id", order[-1][1]))
        defs = MODULES[module].fields
        keys = [(defs[n], asc) for n, asc in order
                if defs[n].source != "non-db"]  # non-db keys are dropped
        rows, in_order = self._matching(module, args, user_id, keys)
        if not php_empty(offset_arg) and php_str(offset_arg) == "end":
            return {"next_offset": -1, "records": []}
        offset = max(0, php_int(offset_arg))
        if not in_order:
            rows = order_rows(rows, keys)
        window = rows[offset:] if limit < 0 else rows[offset: offset + limit + 1]
        next_offset = -1
        if limit >= 0 and len(window) > limit:
            window = window[:limit]
            next_offset = offset + limit
        return {"next_offset": next_offset,
                "records": [self.format(module, r, fields, user_id) for r in window]}

    def count(self, module: str, args: Row, user_id: str) -> Row:
        self._order(args, MODULES[module])  # parseArguments validates order_by here too
        rows, _ = self._matching(module, args, user_id)
        return {"record_count": len(rows)}

    # --- ModuleApi ------------------------------------------------------------------------------

    def _apply(self, module: str, row: Row, data: Row, creating: bool) -> Row:
        mod = MODULES[module]
        changes: Row = {}
        for name, value in data.items():
            fdef = mod.fields.get(name) if isinstance(name, str) else None
            if fdef is None or fdef.readonly or fdef.source == "non-db":
                continue
            try:
                changes[name] = coerce(fdef, value)
            except InvalidValue as exc:
                raise _invalid(f"Invalid field value: {name} in module: {module}") from exc
        merged = {**row, **changes}
        for name, fdef in mod.fields.items():
            if fdef.required and (creating or name in changes) and php_empty(merged.get(name)):
                raise _invalid(VALIDATION)
        return changes

    def read(self, module: str, record_id: str, args: Row, user_id: str) -> Row:
        row = self.store.live(module, record_id)
        if row is None:
            raise not_found(record_id, module)
        self.user_state(user_id).tracked.add((module, record_id))
        return self.format(module, row, normalize_fields(args.get("fields")), user_id)

    def create(self, module: str, args: Row, user_id: str) -> Row:
        wanted = args.get("id")
        if not php_empty(wanted) and self.store.get(module, php_str(wanted)) is not None:
            raise _invalid(f"Record already exists: {php_str(wanted)} in module: {module}")
        changes = self._apply(module, {}, args, creating=True)
        changes.setdefault("assigned_user_id", user_id)
        stamp = iso(self.store.now())
        row = self.store.insert(module, {
            **changes, "id": php_str(wanted) if not php_empty(wanted) else None,
            "created_by": user_id, "modified_user_id": user_id,
            "date_entered": stamp, "date_modified": stamp})
        self.user_state(user_id).following.add((module, row["id"]))  # creators follow
        return self.format(module, row, normalize_fields(args.get("fields")), user_id)

    def update(self, module: str, record_id: str, args: Row, user_id: str,
               timestamp: str | None) -> Row:
        row = self.store.live(module, record_id)
        if row is None:
            raise not_found(record_id, module)
        if timestamp and MODULES[module].optimistic_locking:
            client = parse_datetime(timestamp)
            if client is None:
                raise _invalid(f"Bad timestamp {timestamp}")
            server = parse_datetime(row["date_modified"])
            if server is not None and server != client:
                raise SugarError(
                    409, "edit_conflict",
                    f"Edit conflict - client TS is {iso(client)}, server TS is {iso(server)}",
                    record=self.format(module, row, None, user_id))
        if "id" in args and php_str(args["id"]) != record_id:
            raise _invalid(f"Not allowed to change record id '{record_id}' in the {module} module")
        changes = self._apply(module, row, args, creating=False)
        changes["modified_user_id"] = user_id
        self.store.update(module, record_id, changes)
        return self.format(module, row, normalize_fields(args.get("fields")), user_id)

    def delete(self, module: str, record_id: str) -> Row:
        if self.store.live(module, record_id) is None:
            raise not_found(record_id, module)
        self.store.delete(module, record_id)
        return {"id": record_id}

    def favorite(self, module: str, record_id: str, user_id: str, on: bool) -> Row:
        row = self.store.live(module, record_id)
        if row is None:
            raise not_found(record_id, module)
        favorites = self.user_state(user_id).favorites
        (favorites.add if on else favorites.discard)((module, record_id))
        return self.format(module, row, None, user_id)
