"""Two `gateway serve` processes sharing one Redis act as one (spec §14, issue 12 item 5).

Two real replicas, each its own process on its own port, share a Redis (each test its own key
prefix) in front of the SugarCRM emulator with platform sessions enforced (a new login evicts
the older session at once, as Sugar does). The emulator runs in the test's process, so the test
reads its request log and injects faults. Proved on the wire:

* 50 concurrent first requests spread over both replicas cause one login;
* a token expired mid-load is renewed once for both, and no consumer sees a 401 or a 502;
* an ``Idempotency-Key`` answered by one replica is replayed by the other;
* a consumer's rate limit is one budget across both;
* SIGKILL of the replica holding the credential's lock in the middle of its login does not
  wedge the other: its lock expires after ``state.recordLockTtl`` and the survivor logs in.

Each replica's stdout and stderr go to files (a pipe nobody reads would fill and stall it);
every process is killed and every key of the test's prefix deleted at teardown.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
import yaml
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from connectors.emulation.calls import Call
from tests.conftest import gateway_config_text
from tests.contract.harness_sugarcrm import SugarHarness
from tests.integration.cli.conftest import _is_listening
from tests.integration.lifecycle.served import eventually
from tests.redis_server import redis_url, require_redis

ORG = "acme"
KEY = "test-key"
LIMITED_KEY = "limited-key"
BURST = 6  # the limited consumer's bucket; it refills at one call per 1000 s
TOKEN_PATH = SugarHarness.token_path
WAIT = 30.0  # generous bound on any wait; nothing here is timed


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Replica:
    """One ``gateway serve`` process and where its output goes."""

    proc: subprocess.Popen[bytes]
    port: int
    out: Path
    err: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


class Arrivals:
    """Outermost middleware on the emulator: sees each request as it arrives (the emulator's
    own log records a request when it is answered), with the peer's port."""

    def __init__(self) -> None:
        self.token = asyncio.Event()
        self.token_peers: list[int] = []

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
        if request.path == TOKEN_PATH:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.token_peers.append(int(peer[1]) if peer else 0)
            self.token.set()
        return await handler(request)


@dataclass
class Rig:
    h: SugarHarness
    arrivals: Arrivals
    prefix: str
    tmp: Path
    launched: list[Replica]

    @property
    def log(self) -> list[Call]:
        return list(self.h.emulator.log)

    def record_id(self) -> str:
        return str(self.h.records()[0]["id"])

    def config(self, *, consumers: list[dict[str, Any]] | None = None,
               **state: Any) -> Path:
        text = gateway_config_text({"sugarcrm": self.h.source()}, consumers=consumers)
        text += yaml.safe_dump({"state": {
            "backend": "redis", "url": require_redis(), "prefix": self.prefix,
            "secretKey": "replicas-state-key-0001", **state}}, sort_keys=False)
        path = self.tmp / f"gateway-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(text)
        return path

    async def replicas(self, config: Path, n: int = 2) -> list[Replica]:
        """``n`` ``gateway serve`` processes on the same config, each on its own port."""
        started = [self._spawn(config) for _ in range(n)]
        for r in started:
            await eventually(partial(_up_or_gone, r), WAIT, f"replica on {r.port} listening")
            assert r.proc.poll() is None, r.log()
        return started

    def _spawn(self, config: Path) -> Replica:
        i = len(self.launched)
        out, err = self.tmp / f"replica{i}.out", self.tmp / f"replica{i}.err"
        port = _free_port()
        with out.open("wb") as out_file, err.open("wb") as err_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--config", str(config),
                 "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file, env=dict(os.environ))
        replica = Replica(proc, port, out, err)
        self.launched.append(replica)
        return replica

    def logs(self) -> str:
        """Every replica's output, for a failure message."""
        return "\n".join(f"--- replica on {r.port}:\n{r.log()[-3000:]}" for r in self.launched)


def _up_or_gone(replica: Replica) -> bool:
    return _is_listening(replica.port) or replica.proc.poll() is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def rig(aiohttp_server: Any, tmp_path: Path) -> AsyncIterator[Rig]:
    """The Sugar emulator (sessions enforced) in this process and a launcher of replicas."""
    h, arrivals = SugarHarness(), Arrivals()

    async def serve(app: web.Application) -> Any:
        app.middlewares.insert(0, arrivals.middleware)
        # aiohttp's test server cancels a handler whose client hung up (handler_cancellation),
        # as a backend's worker stops on a client gone: a killed replica's slow login is never
        # completed behind its back.
        return await aiohttp_server(app)

    await h.start(serve)
    h.emulator.tokens.eviction_grace = 0.0  # a new login kills the older session at once
    prefix = f"test-replicas-{uuid.uuid4().hex}:"
    rig = Rig(h, arrivals, prefix, tmp_path, [])
    try:
        yield rig
    finally:
        for r in rig.launched:
            if r.proc.poll() is None:
                r.proc.kill()
        for r in rig.launched:
            r.proc.wait(timeout=WAIT)
        url = redis_url()
        if url is not None:  # else the test skipped before writing anything
            client = redis.Redis.from_url(url)
            try:
                keys = list(client.scan_iter(match=f"{prefix}*"))
                if keys:
                    client.delete(*keys)
            finally:
                client.close()


def grants(log: list[Call], kind: str) -> list[Call]:
    """Token calls of one grant type (``password`` is a login, ``refresh_token`` a renewal)."""
    return [c for c in log if c.path == TOKEN_PATH and isinstance(c.body, dict)
            and c.body.get("grant_type") == kind]


async def read(session: aiohttp.ClientSession, replica: Replica, record_id: str,
               key: str = KEY) -> tuple[int, str]:
    url = f"{replica.url}/v1/records/sugarcrm/Accounts/{record_id}"
    async with session.get(url, params={"orgId": ORG}, headers=auth(key)) as resp:
        return resp.status, await resp.text()


async def spread(session: aiohttp.ClientSession, pair: list[Replica], record_id: str,
                 n: int) -> list[int]:
    """``n`` concurrent reads, alternating between the replicas: their statuses."""
    answers = await asyncio.gather(*(read(session, pair[i % 2], record_id) for i in range(n)))
    return [status for status, _ in answers]


async def metric(session: aiohttp.ClientSession, replica: Replica, name: str,
                 **labels: str) -> float:
    """The sum of one replica's samples of ``name`` whose labels include ``labels``."""
    async with session.get(f"{replica.url}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples
               if s.name == name and labels.items() <= s.labels.items())


async def fetches(session: aiohttp.ClientSession, replica: Replica, kind: str) -> float:
    return await metric(session, replica, "gateway_backend_token_fetches_total",
                        source="sugarcrm", kind=kind)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as s:
        yield s


async def test_50_concurrent_first_requests_over_both_replicas_log_in_once(
    rig: Rig, session: aiohttp.ClientSession
) -> None:
    pair = await rig.replicas(rig.config())
    statuses = await spread(session, pair, rig.record_id(), 50)
    assert statuses == [200] * 50, rig.logs()
    assert len(grants(rig.log, "password")) == 1, rig.logs()
    assert not grants(rig.log, "refresh_token")
    # Both replicas read from the backend; one logged in, the other took its token from Redis.
    logins = [await fetches(session, r, "login") for r in pair]
    assert sorted(logins) == [0, 1]
    for r in pair:
        assert await metric(session, r, "gateway_backend_requests_total",
                            source="sugarcrm", status="200") >= 1


async def test_a_token_expired_mid_load_is_renewed_once_and_no_request_sees_401_or_502(
    rig: Rig, session: aiohttp.ClientSession
) -> None:
    pair = await rig.replicas(rig.config())
    rid = rig.record_id()
    assert await spread(session, pair, rid, 10) == [200] * 10, rig.logs()
    seen = len(rig.log)
    total, expire_at = 160, 60
    statuses: list[int] = []
    numbers = iter(range(total))

    async def client() -> None:
        for i in numbers:  # one shared iterator: 16 calls in flight at any time
            if i == expire_at:
                rig.h.emulator.expire_tokens()  # every token issued so far is refused from now
            status, text = await read(session, pair[i % 2], rid)
            assert status == 200, f"{text}\n{rig.logs()}"
            statuses.append(status)

    await asyncio.gather(*(client() for _ in range(16)))
    assert statuses == [200] * total
    after = rig.log[seen:]
    assert len(grants(after, "refresh_token")) == 1, rig.logs()  # one renewal, by one replica
    assert [c for c in after if c.path == TOKEN_PATH and
            c.body.get("grant_type") != "refresh_token"] == []  # and no login
    # Both replicas were refused the expired token; one renewed, the other took the new one.
    for r in pair:
        assert await metric(session, r, "gateway_backend_requests_total",
                            source="sugarcrm", status="401") >= 1
    assert sorted([await fetches(session, r, "refresh") for r in pair]) == [0, 1]
    assert sum([await fetches(session, r, "login") for r in pair]) == 1  # the first one


async def test_an_idempotency_key_answered_by_one_replica_replays_from_the_other(
    rig: Rig, session: aiohttp.ClientSession
) -> None:
    one, other = await rig.replicas(rig.config())
    key = {"Idempotency-Key": f"replicas-{uuid.uuid4().hex}", **auth()}
    url = "/v1/records/sugarcrm/Accounts"
    body = {"name": "Replayed Inc", "industry": "Energy"}
    params = {"orgId": ORG}

    async with session.post(one.url + url, params=params, json=body, headers=key) as resp:
        first, first_body = resp.status, await resp.read()
        assert "Idempotent-Replayed" not in resp.headers
    assert first == 201, first_body
    async with session.post(other.url + url, params=params, json=body, headers=key) as resp:
        assert resp.status == 201, await resp.text()
        assert resp.headers.get("Idempotent-Replayed") == "true"
        assert await resp.read() == first_body  # byte for byte
    creates = [c for c in rig.log if c.method == "POST" and c.path == "/rest/v10/Accounts"]
    assert len(creates) == 1  # the other replica did not create it again
    # The same key with another request is a conflict on the other replica too.
    async with session.post(other.url + url, params=params, json={**body, "name": "Other"},
                            headers=key) as resp:
        assert resp.status == 409, await resp.text()
        assert (await resp.json())["error"] == "conflict"
    assert len([c for c in rig.log if c.method == "POST"
                and c.path == "/rest/v10/Accounts"]) == 1


async def test_a_consumers_rate_limit_is_one_budget_across_both_replicas(
    rig: Rig, session: aiohttp.ClientSession
) -> None:
    consumers: list[dict[str, Any]] = [
        {"name": "tester", "apiKey": KEY, "orgs": [ORG]},
        {"name": "limited", "apiKey": LIMITED_KEY, "orgs": [ORG],
         "rateLimit": {"requestsPerSecond": 0.001, "burst": BURST}},
    ]
    pair = await rig.replicas(rig.config(consumers=consumers))
    rid = rig.record_id()
    answered: list[tuple[int, int]] = []  # (replica, status)
    for i in range(3 * BURST):  # one after the other, alternating replicas
        status, text = await read(session, pair[i % 2], rid, LIMITED_KEY)
        assert status in (200, 429), text
        answered.append((i % 2, status))
    # Each replica alone would have let BURST through: together they let BURST through.
    assert [s for _, s in answered] == [200] * BURST + [429] * (2 * BURST), rig.logs()
    assert {r for r, s in answered if s == 200} == {0, 1}
    async with session.get(f"{pair[1].url}/v1/records/sugarcrm/Accounts/{rid}",
                           params={"orgId": ORG}, headers=auth(LIMITED_KEY)) as resp:
        assert resp.status == 429
        assert "Retry-After" in resp.headers
        assert (await resp.json())["error"] == "rate_limited"
    # Another consumer's budget is its own.
    assert await spread(session, pair, rid, 4) == [200] * 4


def _socket_owner(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` has a TCP socket on local port ``port`` (the client side of a
    connection the emulator saw coming from that port)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


async def test_killing_the_replica_holding_the_lock_mid_login_does_not_wedge_the_other(
    rig: Rig, session: aiohttp.ClientSession
) -> None:
    # A lock whose holder died frees itself after 1 s; waiting for it may last 30 s, so a
    # survivor that waited on a dead holder's lock rather than its expiry would time out.
    pair = await rig.replicas(rig.config(recordLockTtl=1, recordLockWait=WAIT))
    rid = rig.record_id()
    rig.h.emulator.faults.latency = 60.0  # every call waits: the first login hangs there
    calls = [asyncio.ensure_future(read(session, pair[i % 2], rid)) for i in range(50)]
    try:
        await asyncio.wait_for(rig.arrivals.token.wait(), WAIT)
    except TimeoutError:
        raise AssertionError(f"no login reached the emulator\n{rig.logs()}") from None
    rig.h.emulator.faults.latency = 0.0  # from now on (the login already in is still waiting)
    [peer] = rig.arrivals.token_peers  # one login: the other replica waits on the lock
    holder = _socket_owner(peer, [r.proc.pid for r in pair])
    assert holder is not None, f"no replica has the login's socket (port {peer})"
    dead = next(r for r in pair if r.proc.pid == holder)
    survivor = next(r for r in pair if r is not dead)
    locks = redis.Redis.from_url(require_redis())
    try:
        assert list(locks.scan_iter(match=f"{rig.prefix}lock:token:sugarcrm:*"))  # it holds it
    finally:
        locks.close()

    dead.proc.kill()  # SIGKILL in the middle of its login: nothing is released
    dead.proc.wait(timeout=WAIT)
    started = time.monotonic()
    answers = await asyncio.wait_for(
        asyncio.gather(*calls, return_exceptions=True), WAIT + 10)
    waited = time.monotonic() - started

    mine = [a for i, a in enumerate(answers) if pair[i % 2] is survivor]
    assert [a if isinstance(a, BaseException) else a[0] for a in mine] == [200] * 25, \
        f"{mine}\n{rig.logs()}"
    # The killed replica's calls were cut with it (none answered anything but a hang-up).
    assert all(isinstance(a, aiohttp.ClientError) for i, a in enumerate(answers)
               if pair[i % 2] is dead)
    # The survivor logged in once, after the lock expired; the dead login never completed.
    # (The emulator logs a call cut by its client's death with status None.)
    logins = grants(rig.log, "password")
    assert [c.status for c in logins] == [None, 200], \
        f"{[(c.status, c.body) for c in logins]}\n{rig.logs()}"
    assert len(rig.arrivals.token_peers) == 2 and not grants(rig.log, "refresh_token")
    assert await fetches(session, survivor, "login") == 1
    assert "token_lock_unavailable" not in survivor.log()  # it did not give up on the lock
    print(f"the survivor answered its {len(mine)} calls {waited:.2f} s after the kill")
    # And it keeps working on the token it got.
    assert await spread(session, [survivor, survivor], rid, 10) == [200] * 10
