"""Sugar record store: rows per module, save-time coercion, soft deletes, ordering and paging."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from connectors.sugarcrm.emulator.schema import MODULES, FieldDef
from connectors.sugarcrm.emulator.values import parse_datetime, php_str, sort_key

__all__ = ["FileData", "InvalidValue", "RecordStore", "coerce", "iso", "order_rows", "utcnow"]

Row = dict[str, Any]


class InvalidValue(ValueError):
    """A submitted value the field's type cannot hold."""


@dataclass
class FileData:
    name: str
    content_type: str
    data: bytes


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def iso(moment: datetime) -> str:
    """Sugar's API date-time form for a UTC user: 2013-02-26T19:12:00+00:00."""
    # isoformat, not strftime: %Y does not pad years before 1000 ("1-01-01") on Linux.
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "+00:00"


_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}


def coerce(fdef: FieldDef, value: Any) -> Any:
    """What SugarField::apiSave stores for a submitted value; InvalidValue when it cannot."""
    ftype = fdef.type
    if ftype == "bool":
        if isinstance(value, bool) or value is None:
            return bool(value)
        if isinstance(value, int | float):
            return bool(value)
        text = php_str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise InvalidValue(fdef.name)
    if value is None or (value == "" and ftype not in ("varchar", "text", "name", "enum", "email",
                                                       "phone", "url", "id", "relate")):
        return None
    if isinstance(value, list | dict):
        raise InvalidValue(fdef.name)
    if ftype == "int":
        if isinstance(value, bool):
            return int(value)
        try:
            number = Decimal(php_str(value).strip())
        except InvalidOperation as exc:
            raise InvalidValue(fdef.name) from exc
        if number != number.to_integral_value():
            raise InvalidValue(fdef.name)
        return int(number)
    if ftype in ("decimal", "currency"):
        try:
            number = Decimal(php_str(value).strip())
        except InvalidOperation as exc:
            raise InvalidValue(fdef.name) from exc
        if not number.is_finite():
            raise InvalidValue(fdef.name)
        # Sugar hands decimals back as strings at the column's scale.
        return f"{number:.6f}" if ftype == "currency" else f"{number:.2f}"
    if ftype == "date":
        text = php_str(value).strip()
        try:
            return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
        except ValueError as exc:
            raise InvalidValue(fdef.name) from exc
    if ftype == "datetime":
        parsed = parse_datetime(value)
        if parsed is None:
            raise InvalidValue(fdef.name)
        return iso(parsed)
    return php_str(value)


@dataclass
class _Order:
    """A module's rows in one ORDER BY, as of `generation`; `stamp` is every row's deleted flag
    and sort values at the time, in insertion order."""

    generation: int
    stamp: list[Any]
    rows: list[Row]


_ORDERS_MAX = 32  # cached orderings per store; all dropped when one more is needed


class RecordStore:
    """Rows of every emulated module; soft-deleted rows stay, flagged `deleted`."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._rows: dict[str, dict[str, Row]] = {name: {} for name in MODULES}
        self.files: dict[tuple[str, str, str], FileData] = {}
        # The server clock (naive UTC); tests may replace it. Every stamp below reads it.
        self.clock = clock
        self._pinned: datetime | None = None
        self._generation = 0  # bumped by every write below
        self._orders: dict[tuple[Any, ...], _Order] = {}

    def now(self) -> datetime:
        """TimeDate::nowDb: whole seconds (the column is a MySQL datetime)."""
        moment = self._pinned if self._pinned is not None else self.clock()
        return moment.replace(microsecond=0, tzinfo=None)

    @contextmanager
    def stamped(self, moment: datetime) -> Iterator[None]:
        """Writes inside stamp `moment`, the time SugarBean took when the save started, however
        much later the row is written (the emulator's stamp-then-commit delay)."""
        previous, self._pinned = self._pinned, moment
        try:
            yield
        finally:
            self._pinned = previous

    # --- the public, dict-like surface used by tests and seeding -------------------------------

    def insert(self, module: str, record: Row) -> Row:
        """Store a record as given (coerced to field types); fills id, dates and flags."""
        table = self._rows[module]
        defs = MODULES[module].fields
        row: Row = {name: None for name in defs if defs[name].source != "non-db"}
        for name, value in record.items():
            if name in defs and defs[name].source != "non-db":
                row[name] = coerce(defs[name], value)
        row["id"] = str(record.get("id") or uuid.uuid4())
        if row["id"] in table:
            raise KeyError(f"Record already exists: {row['id']} in module: {module}")
        stamp = iso(self.now())
        row["date_entered"] = row["date_entered"] or stamp
        row["date_modified"] = row["date_modified"] or row["date_entered"]
        row["deleted"] = bool(record.get("deleted", False))
        table[row["id"]] = row
        self._generation += 1
        return row

    def get(self, module: str, record_id: Any) -> Row | None:
        """The stored row, deleted or not; None when absent."""
        if not isinstance(record_id, str):
            return None
        return self._rows.get(module, {}).get(record_id)

    def live(self, module: str, record_id: Any) -> Row | None:
        row = self.get(module, record_id)
        return None if row is None or row["deleted"] else row

    def all(self, module: str) -> list[Row]:
        """Every row that is not soft-deleted, in insertion order."""
        return [r for r in self._rows[module].values() if not r["deleted"]]

    def rows(self, module: str, include_deleted: bool = False) -> Iterable[Row]:
        return self._rows[module].values() if include_deleted else self.all(module)

    def ordered(self, module: str, order: list[tuple[FieldDef, bool]],
                include_deleted: bool = False) -> list[Row] | None:
        """``order_rows(list(self.rows(module, include_deleted)), order)``, kept between calls:
        the list is reused while no write happened and every row's deleted flag and sort values
        are what they were (so rows changed by hand are seen too). The caller must not change
        the list. None when the rows cannot be ordered as a whole (a key missing from a row, or
        values that do not compare): the caller orders what it needs itself."""
        names = ("deleted", *(fdef.name for fdef, _ in order))
        key = (module, include_deleted, tuple((f.name, f.type, asc) for f, asc in order))
        try:
            stamp = list(map(itemgetter(*names), self._rows[module].values()))
            cached = self._orders.get(key)
            if cached and cached.generation == self._generation and cached.stamp == stamp:
                return cached.rows
            rows = order_rows(list(self.rows(module, include_deleted)), order)
        except Exception:  # the caller's own ordering of what matches raises, if anything
            return None
        if len(self._orders) >= _ORDERS_MAX:
            self._orders.clear()
        self._orders[key] = _Order(self._generation, stamp, rows)
        return rows

    # --- writes the API performs --------------------------------------------------------------

    def touch(self, row: Row) -> None:
        """SugarBean::setModifiedDate: date_modified is the clock's second at the save, nothing
        more; two saves in one second share it (no uniqueness, and it never runs ahead)."""
        row["date_modified"] = iso(self.now())
        self._generation += 1

    def update(self, module: str, record_id: str, changes: Row) -> Row:
        row = self._rows[module][record_id]
        row.update(changes)
        self._generation += 1
        self.touch(row)
        return row

    def delete(self, module: str, record_id: str) -> None:
        row = self._rows[module][record_id]
        row["deleted"] = True
        self._generation += 1
        self.touch(row)

    # --- what happens outside the API: the prune job and the Data Archiver -----------------------

    def prune_deleted(self, module: str | None = None) -> list[str]:
        """The "Prune Database" scheduler job: `DELETE FROM <table> WHERE deleted = 1`, on every
        module (or one). Returns the ids removed."""
        gone: list[str] = []
        for name in (module,) if module is not None else tuple(self._rows):
            table = self._rows[name]
            dead = [rid for rid, row in table.items() if row["deleted"]]
            for rid in dead:
                del table[rid]
            gone.extend(dead)
        self._generation += 1
        return gone

    def hard_delete(self, module: str, ids: Iterable[str]) -> list[str]:
        """A Data Archiver hard delete: rows removed outright, never flagged deleted first.
        Returns the ids that existed."""
        table = self._rows[module]
        gone = [rid for rid in ids if table.pop(rid, None) is not None]
        self._generation += 1
        return gone


def order_rows(rows: list[Row], order: list[tuple[FieldDef, bool]]) -> list[Row]:
    """Multi-key ORDER BY with MySQL NULL placement (first ascending, last descending)."""
    ordered = list(rows)
    for fdef, ascending in reversed(order):  # stable sorts, least significant key first
        ordered.sort(key=_key_for(fdef), reverse=not ascending)
    return ordered


def _key_for(fdef: FieldDef) -> Callable[[Row], tuple[Any, ...]]:
    return lambda row: sort_key(fdef.type, row.get(fdef.name))
