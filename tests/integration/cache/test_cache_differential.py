"""The cache changes no answer: random interleavings of reads and writes through the gateway
answer the same with the cache on as with it off (hypothesis, seeded by its database).

Two gateways in front of one SugarCRM emulator, one caching (a long ttl, so only invalidation
keeps it right) and one not. Every write goes through the caching one (single calls and
/v1/bulk, coalesced into Sugar's /bulk); every read is sent to both, by two consumers with
different scopes, and must get the same status and body.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config.model import GatewayConfig
from gateway.http.app import create_app
from tests.integration.cache.conftest import CONSUMERS, KEY, NARROW_KEY, ORG, auth

ACCOUNTS = "/v1/records/sugarcrm/Accounts"
CONTACTS = "/v1/records/sugarcrm/Contacts"
NAMES = st.sampled_from(["Acme", "acme ", "Zeta", "Ünïcode", "", "Beta"])


@dataclass(frozen=True)
class Op:
    kind: str  # get, get_contact, list, query, update, create, delete, bulk
    target: int = 0
    name: str = ""
    n: int = 1
    key: str = KEY


def _reads() -> st.SearchStrategy[Op]:
    keys = st.sampled_from([KEY, NARROW_KEY])
    return st.one_of(
        st.builds(Op, kind=st.just("get"), target=st.integers(0, 2)),
        st.builds(Op, kind=st.just("get_contact"), target=st.integers(0, 2), key=keys),
        st.builds(Op, kind=st.just("list"), n=st.integers(1, 8)),
        st.builds(Op, kind=st.just("query"), name=NAMES, n=st.integers(1, 8)),
    )


def _writes() -> st.SearchStrategy[Op]:
    return st.one_of(
        st.builds(Op, kind=st.just("update"), target=st.integers(0, 2), name=NAMES),
        st.builds(Op, kind=st.just("create"), name=NAMES),
        st.builds(Op, kind=st.just("delete"), target=st.integers(0, 2)),
        st.builds(Op, kind=st.just("bulk"), target=st.integers(0, 2), name=NAMES,
                  n=st.integers(1, 3)),
    )


OPS = st.lists(st.one_of(_reads(), _reads(), _writes()), min_size=1, max_size=20)


def _config(source: dict[str, Any], cache: bool) -> GatewayConfig:
    if cache:
        source = {**source, "cache": {"ttl": "10m", "maxBytes": "4MiB"}}
    return GatewayConfig.model_validate({"consumers": CONSUMERS, "sources": {"sugarcrm": source}})


class World:
    def __init__(self, cached: TestClient[Any, Any], plain: TestClient[Any, Any],
                 accounts: list[str], contacts: list[str]) -> None:
        self.cached, self.plain = cached, plain
        self.accounts, self.contacts = accounts, contacts

    async def _both(self, method: str, url: str, key: str, **kw: Any) -> None:
        answers = []
        for client in (self.cached, self.plain):
            resp = await client.request(method, url, headers=auth(key), **kw)
            answers.append((resp.status, await resp.json()))
        for answer in answers:
            if isinstance(answer[1], dict):
                answer[1].pop("requestId", None)
        assert answers[0] == answers[1], (method, url)

    async def _write(self, method: str, url: str, **kw: Any) -> None:
        resp = await self.cached.request(method, url, headers=auth(), **kw)
        await resp.read()

    async def run(self, op: Op) -> None:
        account = f"{ACCOUNTS}/{self.accounts[op.target]}?orgId={ORG}"
        if op.kind == "get":
            await self._both("GET", account, op.key)
        elif op.kind == "get_contact":
            url = f"{CONTACTS}/{self.contacts[op.target]}?orgId={ORG}&fields=account_name,last_name"
            await self._both("GET", url, op.key)
        elif op.kind == "list":
            await self._both("GET", f"{ACCOUNTS}?orgId={ORG}&pageSize={op.n}&fields=name",
                             op.key)
        elif op.kind == "query":
            body = {"filter": [[{"field": "name", "operator": "!=", "value": op.name}]],
                    "orderBy": [{"field": "name"}], "pageSize": op.n}
            await self._both("POST", f"{ACCOUNTS}/query?orgId={ORG}", op.key, json=body)
        elif op.kind == "update":
            await self._write("PATCH", account, json={"name": op.name})
        elif op.kind == "create":
            await self._write("POST", f"{ACCOUNTS}?orgId={ORG}", json={"name": op.name})
        elif op.kind == "delete":
            await self._write("DELETE", account)
        else:  # consecutive writes of one entity: one native batch
            requests = [{"url": f"{ACCOUNTS}/{self.accounts[(op.target + i) % 4]}",
                         "method": "PATCH", "data": {"name": f"{op.name}{i}"}}
                        for i in range(op.n)]
            await self._write("POST", f"/v1/bulk?orgId={ORG}", json={"requests": requests})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_the_cache_changes_no_answer(ops: list[Op]) -> None:
    from tests.contract.harness_sugarcrm import SugarHarness

    async def scenario() -> None:
        h = SugarHarness()
        emulator = h.make_emulator(accounts=6, contacts=8)
        async with TestServer(emulator.app) as backend:
            source = {"type": "sugarcrm", "timeout": 5, "retries": 0,
                      **h.base_source(lambda path: str(backend.make_url(path)))}
            contacts = [c["id"] for c in emulator.store.all("Contacts") if c.get("account_id")]
            accounts = sorted(r["id"] for r in emulator.store.all("Accounts"))
            # The contacts' accounts first, so renaming an account changes a contact's answer.
            linked = [c["account_id"] for c in emulator.store.all("Contacts")
                      if c.get("account_id")]
            accounts = list(dict.fromkeys(linked + accounts))[:4]
            cached = TestClient(TestServer(create_app(_config(source, True),
                                                      configure_logs=False)))
            plain = TestClient(TestServer(create_app(_config(source, False),
                                                     configure_logs=False)))
            async with cached, plain:
                world = World(cached, plain, accounts, contacts[:4])
                for op in ops:
                    await world.run(op)

    asyncio.run(scenario())
