"""Pushed and finished answers are the same, on every backend, for adversarial data and queries.

Each generated query is answered twice through the gateway: as asked (the backend does what it
can) and once more made so that no backend can evaluate its filter (``strategies.finished``: an
always-false OR group, or for no filter an always-true one), which makes the gateway finish the
whole filter itself. The two answers must be identical, records, values and order, and so must
the gateway's own sorter under the source's collation applied to the pushed answer. Paging holds
too: every page of size k concatenates to the pageSize-1000 answer, and every totalSize is the
count. Any difference is a bug in one of the two paths.

Seeded (derandomized) and small in ``make test``; ``RECORDGATE_DIFFERENTIAL=long`` runs many more
datasets and queries (minutes) and prints how many::

    RECORDGATE_DIFFERENTIAL=long .venv/bin/python -m pytest -s -p no:randomly \\
        tests/differential/test_pushed_vs_finished.py
"""

from __future__ import annotations

import importlib
import os
from datetime import UTC, datetime
from decimal import Decimal
from math import ceil
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.connector import Collation, EntityInfo, FieldInfo, FieldType
from gateway.query.evaluate import sort_key, value_at
from gateway.query.model import OrderKey
from tests.differential.live import SPECS, Live, Spec
from tests.differential.strategies import dataset, finished, queries

LONG = os.environ.get("RECORDGATE_DIFFERENTIAL") == "long"
DATASETS = 80 if LONG else 5  # per entity
QUERIES = 15 if LONG else 8  # per dataset


def collation(kind: str) -> Collation:
    coll = importlib.import_module(f"connectors.{kind}.query").COLLATION
    assert isinstance(coll, Collation)
    return coll


def entity_info(spec: Spec) -> EntityInfo:
    fields = {n: FieldInfo(n, t) for n, t in spec.types.items() if _is_type(t)}
    return EntityInfo(spec.entity, {**fields, "id": FieldInfo("id")})


def _is_type(t: str) -> bool:
    return t in ("string", "integer", "number", "boolean", "date", "datetime")


def _typed(t: str) -> FieldType:
    assert _is_type(t)
    return t  # type: ignore[return-value]


def assert_values(spec: Spec, row: dict[str, Any], record: dict[str, Any],
                  fields: list[str] | None) -> None:
    """Each answered value is the stored one, read by the field's type (an independent check
    that no path trims, reformats or loses a value, the calendar's ends included)."""
    for name, role in spec.roles.items():
        if fields is not None and name not in fields:
            continue
        stored = value_at(row, name)
        shown = value_at(record, name)
        if role == "boolean" and spec.kind == "sugarcrm":
            stored = bool(stored)  # Sugar stores an empty checkbox as false
        if stored is None or shown is None:
            assert stored is None and shown is None, (spec.name, name, stored, shown)
        elif role in ("integer", "number"):
            assert Decimal(str(shown)) == Decimal(str(stored)), (spec.name, name, stored, shown)
        elif role in ("datetime", "stamp"):
            assert _instant(shown) == _instant(stored), (spec.name, name, stored, shown)
        else:
            assert shown == stored, (spec.name, name, stored, shown)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def check(lv: Live, spec: Spec, rows: list[dict[str, Any]], body: dict[str, Any],
                k: int) -> None:
    """The whole property for one query on the loaded dataset."""
    full = {**body, "pageSize": 1000, "pageNo": 1}
    status, pushed = await lv.query(spec, full)
    status_f, done = await lv.query(spec, {**full, "filter": finished(spec, body["filter"])})
    seen = f"{spec.name} rows={rows} body={body}"
    lv.statuses[status] += 1
    assert status < 500 and status_f < 500, (seen, pushed, done)
    assert status == status_f, (seen, pushed, done)
    if status != 200:
        return
    assert pushed["data"] == done["data"], (seen, pushed["data"], done["data"])
    total = pushed["pagination"]["totalSize"]
    assert total == done["pagination"]["totalSize"] == len(pushed["data"]), seen
    if "fields" not in body:
        order = tuple(OrderKey(o["field"], o["order"] == "DESC") for o in body["orderBy"])
        key = sort_key(order, entity_info(spec), collation=collation(spec.kind))
        assert sorted(pushed["data"], key=key) == pushed["data"], (seen, "gateway sorter")
    for record in pushed["data"]:
        assert_values(spec, lv.loaded[str(record["id"]).lower()], record, body.get("fields"))
    walked: list[Any] = []
    for page_no in range(1, ceil(total / k) + 2):
        status, page = await lv.query(spec, {**body, "pageSize": k, "pageNo": page_no})
        assert status == 200, (seen, k, page_no, page)
        assert page["pagination"]["totalSize"] == total, (seen, k, page_no)
        walked.extend(page["data"])
    assert walked == pushed["data"], (seen, k, walked)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
# No shrinking: each step replays a dataset's queries over HTTP; a failure's message already
# holds the rows and the query that differ.
@settings(max_examples=DATASETS, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_pushed_and_finished_answers_are_the_same(live: Live, spec: Spec,
                                                  data: st.DataObject) -> None:
    rows = data.draw(dataset(spec), label="rows")
    asked = data.draw(queries(spec, QUERIES), label="queries")
    live.load(spec, rows)
    for body, k in asked:
        live.run(check(live, spec, rows, body, k))
        live.checked += 1
