"""Slingr's query language on GET /data/{entity}: filters, operators, _query, sort and paging.

Where the documentation is silent this emulator chose, and the Slingr connector must match:
- (inferred) `equals`, `like` and ordering of text are case-sensitive (MongoDB's defaults);
- (inferred) in ascending order empty values sort first, in descending order last (MongoDB);
- (inferred) ties in the sort field are broken by `id` in the same direction;
- (inferred) `_size` above 1,000 is clamped to 1,000; below 1 or not a number is badRequest;
- (inferred) `_sortField` without `_sortType` sorts ascending; `_sortType` alone sorts by `id`;
- (inferred) the answer's `offset` is the last item's id when sorting by `id`, otherwise the
  number of records skipped plus returned (as a string); null on an empty page;
- (inferred) `notEquals` also matches records where the field is empty; on multi-valued fields
  `equals`/comparisons match when any value matches, `notEquals` when none does;
- (inferred) a relationship compared by plain value matches its label, or its id when the value
  is a 24-hex id; `_query` values escape a single quote as \\' ; `_query` and plain field
  filters in one request are ANDed; the same field twice in the query string is badRequest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter, methodcaller
from typing import Any

from multidict import MultiMapping

from connectors.slingr.emulator.errors import SlingrError
from connectors.slingr.emulator.schema import OPERATORS, EntityDef, FieldDef, ops_for
from connectors.slingr.emulator.store import RecordStore
from connectors.slingr.emulator.values import OBJECT_ID

__all__ = ["Path", "Predicate", "Query", "parse_fields", "parse_query", "resolve", "run"]

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
MAX_SIZE, DEFAULT_SIZE = 1000, 20


def bad(message: str) -> SlingrError:
    return SlingrError(400, "badRequest", message)


@dataclass(frozen=True)
class Path:
    """A resolved field path: its type, whether it holds many values, and how to read them."""

    name: str
    type: str
    multi: bool
    fdef: FieldDef | None
    get: Callable[[Record], list[Any]]
    nested_group: bool = False  # the path is a nested group itself (not sortable)


def _single(key: str) -> Callable[[Record], list[Any]]:
    return lambda r: [r.get(key)]


def resolve(entity: EntityDef, name: str) -> Path:
    """Resolve `name` (dots for nested paths) or answer badRequest for an unknown field."""
    if name in ("id", "label", "version"):
        return Path(name, name, False, None, _single(name))
    head, _, rest = name.partition(".")
    fdef = entity.field(head)
    if fdef is None:
        raise bad(f"Field [{name}] does not exist in entity [{entity.name}]")
    if not rest:
        return Path(name, fdef.type, fdef.multi, fdef, _getter(fdef),
                    nested_group=fdef.type == "nested_fields")
    if fdef.type == "relationship" and rest in ("id", "label"):
        return Path(name, "id" if rest == "id" else "text", False, fdef,
                    lambda r: [(r.get(head) or {}).get(rest)])
    inner = fdef.inner(rest) if fdef.type == "nested_fields" else None
    if inner is None:
        raise bad(f"Field [{name}] does not exist in entity [{entity.name}]")
    if fdef.multi:
        def many(r: Record) -> list[Any]:
            return [item.get(rest) for item in r.get(head) or []]
        return Path(name, inner.type, True, inner, many)
    return Path(name, inner.type, inner.multi, inner,
                lambda r: [(r.get(head) or {}).get(rest)])


def _getter(fdef: FieldDef) -> Callable[[Record], list[Any]]:
    if fdef.multi:
        return lambda r: list(r.get(fdef.name) or [])
    return _single(fdef.name)


# --- values ---------------------------------------------------------------------------------

def split_values(text: str) -> list[str]:
    """Comma means OR; a value holding a comma is wrapped in double quotes [SD-QL]."""
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if quoted:
        raise bad(f"Unbalanced double quotes in value [{text}]")
    out.append(cur)
    return out


def _typed(path: Path, raw: str) -> Any:
    """The query form of a value for the path's type [SD-TYPES]."""
    t = path.type
    try:
        if t in ("integer", "version", "date_time", "date_record_modified"):
            return int(raw)
        if t == "decimal":
            number = Decimal(raw)
            if not number.is_finite():
                raise ValueError(raw)
            return number
        if t == "boolean":
            if raw not in ("true", "false"):
                raise ValueError(raw)
            return raw == "true"
        if t == "date":
            return date.fromisoformat(raw).isoformat() if len(raw) == 10 else _fail(raw)
        if t == "choice" and path.fdef is not None:
            if raw not in {n for n, _ in path.fdef.choices}:
                raise ValueError(raw)
    except (ValueError, InvalidOperation) as exc:
        raise bad(f"Invalid value [{raw}] for field [{path.name}]") from exc
    return raw


def _fail(raw: str) -> Any:
    raise ValueError(raw)


def _comparable(path: Path, value: Any) -> Any:
    """A stored value in the form query values are compared with."""
    if value is None:
        return None
    t = path.type
    if t == "decimal":
        return Decimal(str(value))
    if t == "relationship":
        return value.get("label")
    if t == "file":
        return value.get("name")
    return value


def _equal(path: Path, stored: Any, want: Any) -> bool:
    if stored is None:
        return False
    if path.type == "relationship":
        return bool(stored.get("label") == want or stored.get("id") == want)
    if path.type == "file":
        return bool(stored.get("id") == want or stored.get("name") == want)
    if path.type == "nested_fields":
        return bool(stored.get("id") == want)
    return bool(_comparable(path, stored) == want)


def _like(pattern: str) -> Callable[[str], bool]:
    """like(x) contains, like(/x) starts with, like(x/) ends with, like(/re/) regex [SD-JS]."""
    if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
        try:
            rx = re.compile(pattern[1:-1])
        except re.error as exc:
            raise bad(f"Invalid regular expression [{pattern}]") from exc
        return lambda s: rx.search(s) is not None
    if pattern.startswith("/"):
        return lambda s: s.startswith(pattern[1:])
    if pattern.endswith("/"):
        return lambda s: s.endswith(pattern[:-1])
    return lambda s: pattern in s


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def condition(entity: EntityDef, field: str, expr: str) -> Predicate:
    """One field filter: `value`, `a,b` (OR) or `op(args)`; badRequest when the type lacks op."""
    path = resolve(entity, field)
    m = re.fullmatch(r"(\w+)\((.*)\)", expr, re.S)
    op, arg = (m[1], m[2]) if m and m[1] in OPERATORS else ("equals", None)
    if op not in ops_for(path.type):
        raise bad(f"Operator [{op}] is not supported for field [{field}] of type "
                  f"[{path.type}]")
    get = path.get
    if op in ("empty", "notEmpty"):
        if arg:
            raise bad(f"Operator [{op}] takes no arguments")
        wants_empty = op == "empty"
        return lambda r: all(_is_empty(v) for v in get(r)) is wants_empty
    if op == "like":
        if not arg:
            raise bad("Operator [like] needs a value")
        test = _like(arg)
        return lambda r: any(isinstance(c, str) and test(c)
                             for c in (_comparable(path, v) for v in get(r)))
    values = split_values(expr if arg is None else arg)
    if op in ("equals", "notEquals"):
        wanted = [v if path.type in ("relationship", "file", "nested_fields", "id")
                  else _typed(path, v) for v in values]

        def hit(r: Record) -> bool:
            return any(_equal(path, v, w) for v in get(r) for w in wanted)
        return hit if op == "equals" else (lambda r: not hit(r))
    if op == "between":
        if len(values) != 2:
            raise bad("Operator [between] needs two values")
        lo, hi = (_typed(path, v) for v in values)
        return lambda r: any(c is not None and lo <= c <= hi
                             for c in (_comparable(path, v) for v in get(r)))
    if len(values) != 1:
        raise bad(f"Operator [{op}] needs one value")
    bound = _typed(path, values[0])
    cmp: Callable[[Any], bool] = {
        "greater": lambda c: bool(c > bound), "greaterOrEquals": lambda c: bool(c >= bound),
        "less": lambda c: bool(c < bound), "lessOrEquals": lambda c: bool(c <= bound),
    }[op]
    return lambda r: any(c is not None and cmp(c) for c in (_comparable(path, v) for v in get(r)))


# --- _query=or(...)/and(...)/filter('f','v') -----------------------------------------------

class _Parser:
    def __init__(self, entity: EntityDef, text: str) -> None:
        self.entity, self.text, self.pos = entity, text, 0

    def fail(self, what: str) -> SlingrError:
        return bad(f"Invalid query [{self.text}]: {what} at position {self.pos}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def eat(self, token: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.pos):
            raise self.fail(f"expected '{token}'")
        self.pos += len(token)

    def quoted(self) -> str:
        self.eat("'")
        out = ""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "\\" and self.pos < len(self.text):
                out += self.text[self.pos]
                self.pos += 1
            elif ch == "'":
                return out
            else:
                out += ch
        raise self.fail("unterminated string")

    def expr(self) -> Predicate:
        self.skip()
        m = re.compile(r"(or|and|filter)\s*\(").match(self.text, self.pos)
        if m is None:
            raise self.fail("expected or(), and() or filter()")
        self.pos = m.end()
        if m[1] == "filter":
            field = self.quoted()
            self.eat(",")
            value = self.quoted()
            self.eat(")")
            return condition(self.entity, field, value)
        parts = [self.expr()]
        self.skip()
        while self.text.startswith(",", self.pos):
            self.pos += 1
            parts.append(self.expr())
            self.skip()
        self.eat(")")
        if m[1] == "or":
            return lambda r: any(p(r) for p in parts)
        return lambda r: all(p(r) for p in parts)

    def parse(self) -> Predicate:
        result = self.expr()
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("unexpected text")
        return result


# --- the whole query ------------------------------------------------------------------------

@dataclass
class Query:
    predicates: list[Predicate]
    sort: Path
    descending: bool
    size: int
    skip: int = 0
    after_id: str | None = None
    # What orders records whose sort values are equal: the id (the emulator's inference; the
    # docs give no tie order), or the store's shuffled order (RecordStore.shuffle_ties).
    tie: Callable[[str], Any] = str

    def matches(self, record: Record) -> bool:
        return all(p(record) for p in self.predicates)


def _sort_key(path: Path, descending: bool,
              tie: Callable[[str], Any] = str) -> Callable[[Record], tuple[Any, ...]]:
    def key(r: Record) -> tuple[Any, ...]:
        value = _comparable(path, path.get(r)[0])
        # Missing values first ascending, last descending (MongoDB sorts null before every
        # string; inferred). An empty string is a string: MongoDB sorts it first among them,
        # after the nulls, even though the empty() operator matches both.
        missing = value is None or value == [] or value == {}
        return (0, "", tie(r["id"])) if missing else (1, value, tie(r["id"]))
    return key


def parse_query(entity: EntityDef, params: MultiMapping[str], *, paging: bool = True) -> Query:
    """Every field parameter is a filter (ANDed), `_query` adds a complex one, `_` = system."""
    predicates: list[Predicate] = []
    seen: set[str] = set()
    for key, value in params.items():
        if key.startswith("_"):
            continue
        if key in seen:
            raise bad(f"Field [{key}] appears more than once in the query; use _query")
        seen.add(key)
        predicates.append(condition(entity, key, value))
    if "_query" in params:
        predicates.append(_Parser(entity, params["_query"]).parse())
    sort_field, sort_type = params.get("_sortField"), params.get("_sortType")
    if sort_field is not None and "," in sort_field:
        raise bad("Sorting by more than one field is not supported")
    sort = resolve(entity, sort_field or "id")
    if sort.multi or sort.nested_group:
        raise bad(f"Cannot sort by multi-valued or nested field [{sort.name}]")
    if sort_type is not None and sort_type.lower() not in ("asc", "desc"):
        raise bad(f"Invalid sort type [{sort_type}], it must be asc or desc")
    descending = (sort_type or ("asc" if sort_field else "desc")).lower() == "desc"
    query = Query(predicates, sort, descending, DEFAULT_SIZE)
    if not paging:
        return query
    size = params.get("_size")
    if size is not None:
        if not re.fullmatch(r"\d+", size) or int(size) < 1:
            raise bad(f"Invalid size [{size}]")
        query.size = min(int(size), MAX_SIZE)
    offset = params.get("_offset")
    if offset:
        if re.fullmatch(r"\d+", offset):
            query.skip = int(offset)
        elif OBJECT_ID.fullmatch(offset):
            if sort.name != "id":
                raise bad("Offset by record ID can only be used when sorting by id")
            query.after_id = offset
        else:
            raise bad(f"Invalid offset [{offset}]")
    return query


# Sort values a kept order can be checked by: compared by value, so changed in place never.
_SCALARS = (str, int, float, Decimal, type(None))
_ORDERS_MAX = 32


def sorted_records(store: RecordStore, entity: str, query: Query) -> list[Record] | None:
    """The entity's records in the query's order, kept in ``store.orders`` between calls: reused
    while nothing was inserted, replaced or deleted and every record's id and sort value are
    what they were (records changed by hand are seen too). Only for a top-level field holding
    plain values; None otherwise, or when the records do not sort: the caller sorts what it
    matched. The caller must not change the list."""
    path = query.sort
    if "." in path.name or path.multi or path.type in ("relationship", "file", "nested_fields"):
        return None
    records = store.all(entity)
    key = (entity, path.name, query.descending, store.shuffle_ties)
    try:
        stamp = [list(map(itemgetter("id"), records)),
                 list(map(methodcaller("get", path.name), records))]
        cached = store.orders.get(key)
        if cached and cached[0] == store.generation and cached[1] == stamp:
            return cached[2]
        if not all(isinstance(v, _SCALARS) for part in stamp for v in part):
            return None
        ordered = sorted(records, key=_sort_key(path, query.descending, query.tie),
                         reverse=query.descending)
    except Exception:  # the caller's own sort of what matches raises, if anything
        return None
    if len(store.orders) >= _ORDERS_MAX:
        store.orders.clear()
    store.orders[key] = (store.generation, stamp, ordered)
    return ordered


def select(query: Query, records: list[Record], *, in_order: bool = False) -> list[Record]:
    """Every matching record in the query's order (no paging); `in_order`: `records` already
    are in that order (filtering keeps it)."""
    if query.predicates:
        matched = [r for r in records if query.matches(r)]
    else:
        matched = list(records)
    if not in_order:
        matched.sort(key=_sort_key(query.sort, query.descending, query.tie),
                     reverse=query.descending)
    return matched


def run(query: Query, records: list[Record], *,
        in_order: bool = False) -> tuple[int, str | None, list[Record]]:
    """(total, next offset, page) for a list call."""
    matched = select(query, records, in_order=in_order)
    rows = matched
    if query.after_id is not None:
        after = query.after_id
        rows = [r for r in rows if (r["id"] < after if query.descending else r["id"] > after)]
    page = rows[query.skip:query.skip + query.size]
    if not page:
        offset = None
    elif query.sort.name == "id":
        offset = page[-1]["id"]
    else:
        offset = str(query.skip + len(page))
    return len(matched), offset, page


def parse_fields(entity: EntityDef, raw: str | None) -> list[str] | None:
    """`_fields`: comma list of (nested) paths; unknown ones are badRequest (inferred)."""
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        resolve(entity, name)
    return names
