"""The bulk equivalence property, shared by the kit and the memory-connector suite.

A random sequence of entries (creates, updates, deletes, reads, queries, invalid ones) sent as
one ``/v1/bulk`` to source A must give the same statuses, and leave the same data, as the same
entries sent one by one to source B (an identical fresh backend). With ``failOnFirst``, "one by
one" stops at the first failure and the rest count as 424.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = ["Op", "Target", "ops_strategy", "run_both"]


@dataclass(frozen=True)
class Op:
    kind: str  # create | create_invalid | update | delete | get | query | refused
    target: int = 0  # which known id (the last one is an id that does not exist)
    n: int = 0


@dataclass(frozen=True)
class Target:
    """Where the entries go: an entity of a source, known ids, a valid and an invalid record,
    a text field to update."""

    entity: str
    ids: list[str]
    writable: dict[str, Any]
    invalid: dict[str, Any]
    text: str


def ops_strategy(n_ids: int, max_size: int = 10) -> st.SearchStrategy[list[Op]]:
    targets = st.integers(0, n_ids)  # n_ids: a missing record
    op = st.one_of(
        st.builds(Op, st.just("create"), st.just(0), st.integers(0, 999)),
        st.builds(Op, st.just("create_invalid")),
        st.builds(Op, st.just("update"), targets, st.integers(0, 999)),
        st.builds(Op, st.just("delete"), targets),
        st.builds(Op, st.just("get"), targets),
        st.builds(Op, st.just("query")),
        st.builds(Op, st.just("refused")),
    )
    return st.lists(op, min_size=1, max_size=max_size)


def entry(op: Op, source: str, t: Target) -> dict[str, Any]:
    base = f"/v1/records/{source}/{t.entity}"
    rid = t.ids[op.target] if op.target < len(t.ids) else "00000000-0000-4000-8000-00000000beef"
    if op.kind == "create":
        return {"url": base, "method": "POST",
                "data": {**t.writable, t.text: f"Bulk {op.n}"}}
    if op.kind == "create_invalid":
        return {"url": base, "method": "POST", "data": dict(t.invalid)}
    if op.kind == "update":
        return {"url": f"{base}/{rid}", "method": "PATCH", "data": {t.text: f"Upd {op.n}"}}
    if op.kind == "delete":
        return {"url": f"{base}/{rid}", "method": "DELETE"}
    if op.kind == "get":
        return {"url": f"{base}/{rid}"}
    if op.kind == "query":
        return {"url": f"{base}/query", "method": "POST", "data": {"pageSize": 2}}
    return {"url": f"{base}/../{t.entity}"}


async def run_both(
    client: Any, ops: list[Op], fail_on_first: bool, t: Target, *, org: str, key: str,
    records: Callable[[str], list[Any]],
) -> None:
    """Bulk on source ``a``, one by one on source ``b``; assert same statuses and data."""
    auth = {"Authorization": f"Bearer {key}"}
    resp = await client.post("/v1/bulk", params={"orgId": org}, headers=auth, json={
        "requests": [entry(op, "a", t) for op in ops], "failOnFirst": fail_on_first})
    got = await resp.json()
    assert resp.status == 200, got
    bulk_statuses = [e["status"] for e in got]
    single_statuses: list[int] = []
    for op in ops:
        if fail_on_first and any(s >= 400 for s in single_statuses):
            single_statuses.append(424)
            continue
        e = entry(op, "b", t)
        if op.kind == "refused":
            single_statuses.append(400)  # the path alone would be normalised by the client
            continue
        r = await client.request(e.get("method", "GET"), e["url"], params={"orgId": org},
                                 headers=auth, json=e.get("data"))
        await r.read()
        single_statuses.append(r.status)
    assert bulk_statuses == single_statuses, (ops, got)
    assert records("a") == records("b"), ops
