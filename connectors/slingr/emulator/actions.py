"""The sample app's actions (logSomething, customResponse, countEmployees) and aggregate queries."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.slingr.emulator.errors import SlingrError
from connectors.slingr.emulator.jobs import Jobs
from connectors.slingr.emulator.query import bad
from connectors.slingr.emulator.records import Records, entity_of

if TYPE_CHECKING:
    from connectors.slingr.emulator.app import Req

__all__ = ["Actions"]

Record = dict[str, Any]
# entity -> action -> kind: "one" (runs per record) or "many" (runs once over all records)
_ACTIONS = {"companies": {"logSomething": "one", "customResponse": "one",
                          "countEmployees": "many"}}


class Actions:
    """Actions of the seed's companies entity, and PUT /data/{entity}/aggregate."""

    def __init__(self, records: Records, jobs: Jobs) -> None:
        self.records = records
        self.jobs = jobs

    def known(self, entity: str, name: str) -> bool:
        return name in _ACTIONS.get(entity, {})

    def run(self, req: Req, entity: str, ids: list[str], name: str, *, many: bool) -> Any:
        kind = _ACTIONS.get(entity, {}).get(name)
        if kind is None:
            raise SlingrError(404, "notFound", f"Action [{name}] not found in entity [{entity}]")
        targets = [self.records.get(entity, rid) for rid in ids]  # 404 for an unknown id
        if kind == "many":
            result: Any = {"numberOfEmployees": sum(r.get("numberOfEmployees") or 0
                                                    for r in targets)}
        elif not many:
            result = self._one(req, entity, name, targets[0]["id"], with_entity=False)
        else:
            result = {r["id"]: {"status": "ok", "response": self._one(req, entity, name, r["id"],
                                                                      with_entity=True)}
                      for r in targets}
        if not req.is_async:
            return result
        assert req.session is not None
        return self.jobs.run(req.session, "EXECUTE_ACTION",
                             f"Execute action {name} from entity {entity}", result,
                             records=len(targets), data={"entityName": entity, "action": name})

    def _one(self, req: Req, entity: str, name: str, record_id: str, *,
             with_entity: bool) -> Any:
        if name == "customResponse":
            return "This is a custom response"
        # logSomething saves the record
        saved = self.records.touch(entity, record_id, actor=req.actor(), action=name)
        return self.records.with_entity(entity, saved) if with_entity else saved

    # --- aggregate ------------------------------------------------------------------------------

    def aggregate(self, entity_name: str, steps: Any) -> dict[str, Any]:
        """project / match / group / sort / skip / limit / count over the entity's records."""
        entity = entity_of(entity_name)
        if not isinstance(steps, list) or not all(isinstance(s, dict) and len(s) == 1
                                                  for s in steps):
            raise bad("An aggregate query is a list of single-key operations")
        rows: list[Record] = [_flat(r) for r in self.records.store.all(entity.name)]
        for step in steps:
            (op, arg), = step.items()
            handler = _STEPS.get(op)
            if handler is None:
                raise bad(f"Unknown aggregate operation [{op}]")
            rows = handler(rows, arg)
        return {"total": len(rows), "items": rows}


def _flat(record: Record) -> Record:
    """Relationships aggregate by their label, as the seed's sample shows."""
    return {k: (v.get("label") if isinstance(v, dict) and "label" in v and "id" in v
                and k not in ("contactInformation",) else v) for k, v in record.items()}


def _project(rows: list[Record], arg: Any) -> list[Record]:
    if not isinstance(arg, str):
        raise bad("project takes a comma-separated list of fields")
    names = [n.strip() for n in arg.split(",") if n.strip()]
    return [{n: r.get(n) for n in names} for r in rows]


def _match(rows: list[Record], arg: Any) -> list[Record]:
    if not isinstance(arg, dict):
        raise bad("match takes a map of field values")
    return [r for r in rows if all(str(r.get(k)) == str(v) if not isinstance(v, bool)
                                   else r.get(k) is v for k, v in arg.items())]


def _number(value: Any) -> Decimal | None:
    try:
        return None if value is None or isinstance(value, bool) else Decimal(str(value))
    except ArithmeticError:
        return None


def _out(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


_REDUCERS: dict[str, Callable[[list[Any]], Any]] = {
    "sum": lambda vs: _out(sum((n for v in vs if (n := _number(v)) is not None), Decimal(0))),
    "avg": lambda vs: (_out(sum(ns, Decimal(0)) / len(ns))
                       if (ns := [n for v in vs if (n := _number(v)) is not None]) else None),
    "min": lambda vs: min((v for v in vs if v is not None), default=None),
    "max": lambda vs: max((v for v in vs if v is not None), default=None),
    "first": lambda vs: vs[0] if vs else None,
    "last": lambda vs: vs[-1] if vs else None,
}


def _group(rows: list[Record], arg: Any) -> list[Record]:
    if not isinstance(arg, dict) or not isinstance(arg.get("by", ""), str):
        raise bad("group takes {'by': 'fields', '<name>': 'op(field)'}")
    by = [n.strip() for n in str(arg.get("by", "")).split(",") if n.strip()]
    outputs: list[tuple[str, str, str]] = []
    for name, expr in arg.items():
        if name == "by":
            continue
        op, _, inner = str(expr).partition("(")
        if not inner.endswith(")") or (op not in _REDUCERS and op != "count"):
            raise bad(f"Invalid group operation [{expr}]")
        outputs.append((name, op, inner[:-1]))
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for r in rows:  # groups keep the order in which they first appear
        groups.setdefault(tuple(str(r.get(b)) for b in by), []).append(r)
    result = []
    for members in groups.values():
        out = {b: members[0].get(b) for b in by}
        for name, op, field in outputs:
            out[name] = len(members) if op == "count" else _REDUCERS[op](
                [m.get(field) for m in members])
        result.append(out)
    return result


def _sort(rows: list[Record], arg: Any) -> list[Record]:
    if not isinstance(arg, dict):
        raise bad("sort takes {'field': 'asc'|'desc'}")
    for name, direction in reversed(list(arg.items())):
        desc = str(direction).lower() in ("desc", "-1")
        rows = sorted(rows, key=_by(name), reverse=desc)
    return rows


def _by(name: str) -> Callable[[Record], tuple[bool, Any]]:
    return lambda r: (r.get(name) is not None, r.get(name) or 0)


def _int_arg(op: str, arg: Any) -> int:
    if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
        raise bad(f"{op} takes a non-negative number")
    return arg


_STEPS: dict[str, Callable[[list[Record], Any], list[Record]]] = {
    "project": _project, "match": _match, "group": _group, "sort": _sort,
    "skip": lambda rows, arg: rows[_int_arg("skip", arg):],
    "limit": lambda rows, arg: rows[:_int_arg("limit", arg)],
    "count": lambda rows, arg: [{str(arg): len(rows)}],
}
