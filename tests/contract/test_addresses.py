"""Record addresses (spec §10): no id, entity or field a consumer sends reaches another path.

The witness is each emulator's request log, read as the backend received it (``raw_path``,
still percent-encoded, split into path steps and decoded step by step). For any input, every
call the gateway makes is one of the intended record's URLs (or a login or metadata call that
carries no consumer input in its path), or the gateway refuses with 400/404/405 and calls no
record URL at all. The issue's repros follow as plain examples.

One gateway over the three emulators runs in a thread of its own for the whole module, so
hypothesis can send hundreds of requests without starting servers for each.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from gateway.http.keys import SOURCES
from tests.contract.backends import HARNESSES
from tests.contract.conftest import AUTH, ORG
from tests.live_gateway import LiveGateway

KINDS = sorted(HARNESSES)

# Where each backend keeps what the gateway may call with no consumer input in its path.
INFRA: dict[str, tuple[tuple[str, ...], ...]] = {
    "slingr": (("auth", "login"),),
    "sugarcrm": (("oauth2", "token"), ("metadata",)),
    "dataservice": (("identity_", "connect", "token"), ("Entity",), ("Entity", "*")),
}


def record_paths(kind: str, entity: str, rid: str, field: str) -> set[tuple[str, ...]]:
    """The URLs (path steps after the backend's base) that act on exactly this record."""
    if kind == "slingr":
        return {("data", entity, rid), ("data", entity, rid, "files", "*"), ("files",)}
    if kind == "sugarcrm":
        return {(entity, rid), (entity, rid, "file", field)}
    return {("EntityService", entity, op, rid) for op in ("read", "update", "delete")} | {
        ("Attachment", entity, rid, field)}


BASES = {"slingr": ("dev", "runtime", "api"), "sugarcrm": ("rest", "v10"),
         "dataservice": ("acme", "DefaultTenant", "datafabric_", "api")}
TOKEN_BASE = {"dataservice": ()}  # its token endpoint is not under the API base


def steps(raw_path: str) -> tuple[str, ...]:
    return tuple(unquote(s) for s in raw_path.split("?")[0].strip("/").split("/"))


def matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    return len(path) == len(pattern) and all(p == "*" or p == s for s, p in zip(path, pattern,
                                                                                 strict=True))


def classify(kind: str, raw_path: str) -> tuple[str, tuple[str, ...]]:
    """("infra", steps) for logins and metadata, else ("record", steps after the base)."""
    path = steps(raw_path)
    base = BASES[kind]
    for root in (base, TOKEN_BASE.get(kind, base)):
        rel = path[len(root):] if path[:len(root)] == root else None
        if rel is not None and any(matches(rel, p) for p in INFRA[kind]):
            return "infra", rel
    assert path[:len(base)] == base, f"{kind}: a call outside the API base: {raw_path}"
    return "record", path[len(base):]


# -- one gateway over the three emulators, in its own thread -----------------------------------


class Live(LiveGateway):
    """``unshaped``: every connector's id shape replaced by one that takes anything while its
    connectors are built, so the URL builder alone stands between an id and other paths."""

    def __init__(self, *, unshaped: bool = False) -> None:
        super().__init__()
        self.unshaped = unshaped

    async def built(self) -> None:
        with shapes_removed(self.unshaped):
            for source in self.gateway.app[SOURCES]:
                source.connector(ORG)  # built now, with the shape in force


class _Anything:
    """Not even ANY_ID: it takes '', '.' and '..' too."""

    description = "anything"

    def accepts(self, value: str) -> bool:
        return True


ANYTHING = _Anything()


@contextmanager
def shapes_removed(active: bool) -> Iterator[None]:
    modules = [importlib.import_module(f"connectors.{k}.query") for k in KINDS]
    saved = [m.ID_SHAPE for m in modules]
    if active:
        for m in modules:
            m.ID_SHAPE = ANYTHING  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for m, shape in zip(modules, saved, strict=True):
            m.ID_SHAPE = shape  # type: ignore[attr-defined]


def _live(unshaped: bool) -> Iterator[Live]:
    with Live(unshaped=unshaped) as lv:
        yield lv


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    yield from _live(False)


@pytest.fixture(scope="module")
def live_unshaped() -> Iterator[Live]:
    yield from _live(True)


# -- the property --------------------------------------------------------------------------------

HOSTILE = [
    ".", "..", "%2e", "%2E%2E", ".%2e", "", " ", "/", "a/b", "../x", "x/..", ",", "?x=1", "#x",
    ";", "\\", "%", "%00", "\x00", "\n", "*", "~", "é", "\U0001d518",
    "logSomething", "auditLogs", "history", "aggregate", "import", "export", "files",
    "filter", "count", "MassUpdate", "massupdate", "duplicateCheck", "enum", "temp", "query",
    "read", "update", "delete", "insert-batch", "Entity", "EntityService", "metadata", "bulk",
]
# Placeholders the probe fills with what the harness has: a real record's id, a second one,
# a well-shaped id no record has, the entity and its file field.
IDS = [*HOSTILE, "{id}", "{id},{id2}", "{id}%2C{id2}", "{id}/auditLogs", "{id}/..", "{id}/.",
       "{missing}", "{id} ", " {id}", "{id}\n", "{ID}", "{id}x", "{id}.", "{id};x", "{id}?x"]
ENTITIES = ["{entity}", "{entity}/{id}", "{entity}/..", "..", ".", "%2e", "{entity}.", " ",
            "{entity}/filter", "auth", "files", "Entity", "status"]
FIELDS = ["{field}", "..", ".", "%2e", "{field}/..", "files", "{field},{field}", "id", ""]

OPS = ["GET", "PATCH", "PUT", "DELETE", "FILE_GET", "FILE_PUT", "FILE_DELETE"]


@dataclass(frozen=True)
class Probe:
    kind: str
    op: str
    entity: str
    rid: str
    field: str
    raw_dots: bool  # send '.' and ',' unencoded (aiohttp's router sees them as typed)


def text_or(choices: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(choices), st.text(max_size=30))


probes = st.builds(
    Probe, kind=st.sampled_from(KINDS), op=st.sampled_from(OPS), entity=text_or(ENTITIES),
    rid=text_or(IDS), field=text_or(FIELDS), raw_dots=st.booleans(),
)


def fill(template: str, values: dict[str, str]) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


async def run_probe(lv: Live, p: Probe) -> None:
    h = lv.harnesses[p.kind]
    ids = sorted(str(r["id"]) for r in h.records())
    entity_name = h.roles.file_entity if p.op.startswith("FILE") else h.roles.entity
    assert entity_name is not None
    values = {"id": ids[0], "id2": ids[1], "ID": ids[0].upper(), "missing": h.missing_id,
              "entity": entity_name, "field": h.roles.file_field or "file"}
    entity, rid, field = (fill(x, values) for x in (p.entity, p.rid, p.field))
    safe = ".," if p.raw_dots else ""
    seg = [quote(x, safe=safe) for x in (entity, rid)]
    path = f"/v1/records/{p.kind}/{seg[0]}/{seg[1]}"
    kw: dict[str, Any] = {}
    method = p.op
    if p.op.startswith("FILE"):
        path += f"/files/{quote(field, safe=safe)}"
        method = p.op.removeprefix("FILE_")
        if method == "PUT":
            kw = {"data": b"\x89PNG\r\n\x1a\nprobe",
                  "headers": {**AUTH, "Content-Type": "image/png"}}
    elif method in ("PATCH", "PUT"):
        kw = {"json": {h.roles.text: "probe"}}
    headers = kw.pop("headers", AUTH)
    mark = len(h.emulator.log)
    url = URL(f"{lv.root}{path}?orgId={ORG}", encoded=True)
    async with lv.session.request(method, url, headers=headers, **kw) as resp:
        status = resp.status
        body = await resp.read()
    calls = list(h.emulator.log[mark:])
    assert status < 500 or status in (502, 503, 504), (p, status, body)
    allowed = record_paths(p.kind, entity, rid, field)
    record_calls = [(c.method, c.raw_path) for c in calls
                    if classify(p.kind, c.raw_path)[0] == "record"]
    for call_method, raw in record_calls:
        rel = classify(p.kind, raw)[1]
        assert any(matches(rel, a) for a in allowed), (
            f"{p}: the gateway called {call_method} {raw}, not the record {rid!r} of {entity!r}")
    if not lv.unshaped and not _shaped(p.kind, rid):
        assert status in (400, 404, 405), (p, status, body)
        assert not record_calls, (p, record_calls)


def _shaped(kind: str, rid: str) -> bool:
    """The shapes the README states, written out here again: the test is their second copy."""
    return {
        "slingr": _fullmatch(r"[0-9a-fA-F]{24}", rid),
        "dataservice": _fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", rid),
        "sugarcrm": _fullmatch(r"[A-Za-z0-9_-]{1,36}", rid) and rid.lower() not in {
            "filter", "count", "massupdate", "duplicatecheck", "config", "export", "enum",
            "temp", "file", "globalsearch", "recent", "link", "audit", "favorite",
            "subscribe", "unsubscribe", "vcard", "pii", "customfieldsget", "collection",
            "related"},
    }[kind]


def _fullmatch(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value, re.ASCII) is not None


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(p=probes)
def test_any_input_reaches_only_the_record_it_names(live: Live, p: Probe) -> None:
    live.run(run_probe(live, p))


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(p=probes)
def test_without_id_shapes_urls_still_name_only_that_record(live_unshaped: Live, p: Probe) -> None:
    """The second wall: a connector that declared no shape still cannot be made to call a
    parent path, a list or an encoded '.'; every path step it sends is the step it was given."""
    live_unshaped.run(run_probe(live_unshaped, p))


# -- the repros, on every backend --------------------------------------------------------


async def call(lv: Live, kind: str, method: str, path: str,
               **kw: Any) -> tuple[int, Any, list[tuple[str, str]]]:
    """Send ``path`` as is (raw dots stay dots); the status, the JSON body and the calls the
    backend of ``kind`` received meanwhile."""
    h = lv.harnesses[kind]
    mark = len(h.emulator.log)
    url = URL(f"{lv.root}{path}?orgId={ORG}", encoded=True)
    async with lv.session.request(method, url, headers=AUTH, **kw) as resp:
        status, body = resp.status, await resp.json(content_type=None)
    return status, body, [(c.method, c.raw_path) for c in h.emulator.log[mark:]]


def writes(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(m, p) for m, p in calls if m in ("PUT", "PATCH", "DELETE")
            or (m == "POST" and not p.endswith(("/query", "/token", "/login", "/filter")))]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rid", [".", "%2e", "%2E", "..", "%2e%2e", ".%2E"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_dot_ids_are_400_and_reach_nothing(live: Live, kind: str, rid: str, method: str) -> None:
    h = live.harnesses[kind]
    before = len(h.records())
    kw = {"json": {h.roles.text: "x"}} if method in ("PATCH", "PUT") else {}
    status, body, calls = live.run(call(
        live, kind, method, f"/v1/records/{kind}/{h.roles.entity}/{rid}", **kw))
    # aiohttp's router may not even match '..' (404); otherwise the id check answers 400.
    assert status in (400, 404), body
    if status == 400:
        assert body["error"] == "invalid_request" and body["details"][0]["path"] == "id", body
    assert not [c for c in calls if classify(kind, c[1])[0] == "record"], calls
    assert len(h.records()) == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_comma_list_of_ids_deletes_nothing(live: Live, kind: str) -> None:
    h = live.harnesses[kind]
    a, b = sorted(str(r["id"]) for r in h.records())[-2:]
    for sep in (",", "%2C", "%2c"):
        status, body, calls = live.run(call(
            live, kind, "DELETE", f"/v1/records/{kind}/{h.roles.entity}/{a}{sep}{b}"))
        assert status == 400 and body["details"][0]["path"] == "id", body
        assert not writes(calls), calls
    assert {a, b} <= {str(r["id"]) for r in h.records()}


@pytest.mark.parametrize("kind", KINDS)
def test_a_comma_id_in_bulk_is_refused_alone_and_never_widens_a_batch(live: Live,
                                                                      kind: str) -> None:
    h = live.harnesses[kind]
    created = []
    for _ in range(2):
        status, body, _ = live.run(call(live, kind, "POST",
                                                f"/v1/records/{kind}/{h.roles.entity}",
                                                json=h.roles.writable))
        assert status == 201, body
        created.append(str(body["data"]["id"]))
    keep = sorted(str(r["id"]) for r in h.records() if str(r["id"]) not in created)[:2]
    base_url = f"/v1/records/{kind}/{h.roles.entity}"
    entries = [
        {"url": f"{base_url}/{created[0]}", "method": "DELETE"},
        {"url": f"{base_url}/{quote(','.join(keep), safe='')}", "method": "DELETE"},
        {"url": f"{base_url}/{','.join(keep)}", "method": "DELETE"},
        {"url": f"{base_url}/.", "method": "DELETE"},
        {"url": f"{base_url}/{created[1]}", "method": "DELETE"},
    ]
    status, body, _ = live.run(call(live, kind, "POST", "/v1/bulk",
                                            json={"requests": entries}))
    assert status == 200, body
    statuses = [e["status"] for e in body]
    assert statuses[0] == statuses[4] == 200 and statuses[1] == statuses[2] == 400, body
    assert statuses[3] in (400, 404), body
    ids = {str(r["id"]) for r in h.records()}
    assert set(keep) <= ids and not set(created) & ids


RESERVED = {
    "slingr": ["logSomething", "auditLogs", "history", "aggregate", "import", "export"],
    "sugarcrm": ["filter", "count", "MassUpdate", "massupdate", "duplicateCheck", "config"],
    "dataservice": ["query", "insert-batch", "delete-batch", "Entity"],
}


@pytest.mark.parametrize("kind", KINDS)
def test_words_the_backend_routes_beside_ids_are_not_ids(live: Live, kind: str) -> None:
    h = live.harnesses[kind]
    for word in RESERVED[kind]:
        for method in ("GET", "PATCH", "DELETE"):
            if (method, word) == ("GET", "export"):
                continue  # the gateway's own export (spec §11): the next test
            kw = {"json": {h.roles.text: "x"}} if method == "PATCH" else {}
            status, body, calls = live.run(call(
                live, kind, method, f"/v1/records/{kind}/{h.roles.entity}/{word}", **kw))
            assert status == 400 and body["details"][0]["path"] == "id", (word, body)
            assert not [c for c in calls if classify(kind, c[1])[0] == "record"], calls


@pytest.mark.parametrize("kind", KINDS)
def test_get_export_is_the_gateways_export_never_the_backends(live: Live, kind: str) -> None:
    """``GET …/export`` is the gateway's streamed export: it walks the entity's records and
    never reaches an export action of the backend (Slingr has one beside its ids)."""
    h = live.harnesses[kind]

    async def export() -> tuple[int, str, list[tuple[str, str]]]:
        mark = len(h.emulator.log)
        url = URL(f"{live.root}/v1/records/{kind}/{h.roles.entity}/export?orgId={ORG}",
                  encoded=True)
        async with live.session.get(url, headers=AUTH) as resp:
            status, text = resp.status, await resp.text()
        return status, text, [(c.method, c.raw_path) for c in h.emulator.log[mark:]]

    status, text, calls = live.run(export())
    assert status == 200 and '"complete":true' in text.splitlines()[-1].replace(" ", ""), text
    assert calls and not [c for c in calls if "/export" in c[1].lower()], calls


@pytest.mark.parametrize("kind", KINDS)
def test_file_routes_check_the_id_too(live: Live, kind: str) -> None:
    h = live.harnesses[kind]
    for method in ("GET", "DELETE"):
        status, body, calls = live.run(call(
            live, kind, method, f"/v1/records/{kind}/{h.roles.file_entity}/%2e/files/"
            f"{h.roles.file_field}"))
        assert status == 400 and body["details"][0]["path"] == "id", body
        assert not [c for c in calls if classify(kind, c[1])[0] == "record"], calls


def test_refused_ids_are_counted_for_operators(live: Live) -> None:
    async def scrape() -> str:
        async with live.session.get(f"{live.root}/metrics") as resp:
            return await resp.text()

    live.run(call(live, "slingr", "GET", "/v1/records/slingr/companies/auditLogs"))
    text = live.run(scrape())
    assert 'gateway_refused_ids_total{source="slingr"}' in text
