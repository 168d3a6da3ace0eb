"""Benchmark: ``gateway serve --workers 2`` against ``--workers 1`` on the single-record read.

    python -m tests.bench.workers_bench [--requests 2000] [--rounds 6] [--concurrency 32]
        [--backend canned|emulator] [--client raw|aiohttp] [--log-level info] [--monitor 200]

Both gateways run at once, as deployed (``gateway serve --config FILE --port N --workers K``,
production logging at ``--log-level``, JSON lines to ``.bench/workers{K}.log``), on the bench
config of ``tests/bench/serve.py`` plus ``state: redis`` with a ``secretKey`` (shared tokens;
``--workers 2`` needs Redis). Redis is a ``redis-server`` of the bench's own on a free port
(the machine's 6379 when there is none), so what it runs is this bench's alone. The call:
``GET /v1/records/sugarcrm/Accounts/{id}`` with ``--concurrency`` in flight on keep-alive
connections (the kernel spreads them over the workers' ``SO_REUSEPORT`` sockets).

The machine has 2 cores for the gateway's workers, the backend, Redis and the load generator,
so the last three are made cheap, the gateway being what is measured:

* backend ``canned`` (default): a bare asyncio HTTP/1.1 server answering Sugar's ``POST
  /rest/v10/oauth2/token``, ``GET /rest/v10/Accounts/{id}`` and ``GET /rest/v10/metadata`` with
  precomputed bytes, the ones the SugarCRM emulator gives (an aiohttp app cost ~190 µs of CPU a
  request here, this one ~80); ``emulator``: the SugarCRM emulator itself
  (``python -m tests.bench.serve emulator``, ~310 µs);
* client ``raw`` (default): one keep-alive connection per in-flight call on asyncio streams,
  requests pre-encoded (~115 µs a request, against ~325 for ``aiohttp``, which is
  ``tests/bench/measure.throughput``).

Each round runs ``--requests`` calls through each gateway, the order alternating between
rounds so drift on the host hits both alike. During each leg the CPU time of every process
(``measure.cpu_seconds``) is divided by the calls made: the gateway (supervisor and workers
summed; each worker shown), the backend, Redis and this load generator; and Redis's command count
(``INFO stats``, commands run by scripts included). The throughput ratio (workers 2 ÷ workers
1) is paired within each round; the median over rounds is reported against the target
(≥ 1.6), with every round shown. Then ``--monitor`` calls per gateway run under Redis's
MONITOR (untimed) to count the round trips a request makes to Redis, by command. Other
programs on the host take CPU too: throughput is what was left; CPU per request is the figure
that depends least on them, so the report also gives the throughput each setup would reach
from it with nothing else running (K workers use at most K cores, all processes together at
most every core), and the ratio if the gateway had the cores to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import redis

from tests.bench.legs import ROOT, free_port
from tests.bench.measure import BenchError, Call, cpu_seconds, throughput
from tests.bench.serve import API_KEY, ORG, gateway_config
from tests.redis_server import _answers as redis_answers

__all__ = ["main", "run"]

TARGET = 1.6  # throughput with --workers 2 ÷ with --workers 1, at least
WORKERS = (1, 2)
BENCH = ROOT / ".bench"
OUT = BENCH / "workers_bench.json"
SECRET = "workers-bench-state-key-0001"


# ---- the canned backend -----------------------------------------------------------------------


class CannedSugar:
    """Sugar's answers for the gateway's single-record read, as the SugarCRM emulator gives
    them, computed once: the token, one Accounts record, the metadata (cached per query)."""

    def __init__(self) -> None:
        from connectors.sugarcrm.emulator import SugarEmulator

        self._emu = emu = SugarEmulator(accounts=1, contacts=0)
        token = emu.tokens.grant({"grant_type": "password", "client_id": "sugar",
                                  "username": "admin", "password": "admin",
                                  "platform": "base"})
        self._grant = emu.tokens.verify(token["access_token"])
        [record] = emu.store.all("Accounts")
        self.rid = str(record["id"])
        # A token good for the whole run: the gateway logs in once per credential.
        self.answers: dict[tuple[str, str], bytes] = {
            ("POST", "/rest/v10/oauth2/token"):
                json.dumps({**token, "expires_in": 86400}).encode(),
            ("GET", f"/rest/v10/Accounts/{self.rid}"):
                self._emulated(["Accounts", self.rid], {}),
        }

    def _emulated(self, segments: list[str], query: dict[str, Any]) -> bytes:
        from connectors.sugarcrm.emulator.app import Req

        got = self._emu.dispatch(Req("GET", segments, query, grant=self._grant))
        if got.status != 200:
            raise BenchError(f"the emulator answered {got.status} for {segments}")
        return json.dumps(got.body).encode()

    def answer(self, method: str, target: str) -> bytes | None:
        """The body for ``method target`` (path and query), None when there is none."""
        path, _, query = target.partition("?")
        body = self.answers.get((method, path))
        if body is None and (method, path) == ("GET", "/rest/v10/metadata"):
            # Once per gateway process (the connector caches it): computed, then kept.
            body = self.answers.get((method, target))
            if body is None:
                body = self.answers[method, target] = self._emulated(
                    ["metadata"], dict(parse_qsl(query)))
        return body


class _CannedProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive on a bare asyncio protocol: each request (headers, and a body of
    ``Content-Length`` bytes) gets its precomputed answer written whole. The cheapest server
    there is, so the backend takes as little of the two cores as it can."""

    def __init__(self, canned: CannedSugar, answers: dict[tuple[str, str], bytes]) -> None:
        self._canned = canned
        self._answers = answers  # (method, target) -> the whole HTTP answer
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = self._buffer[:end]
            at = head.lower().find(b"\r\ncontent-length:")
            length = 0 if at < 0 else int(head[at + 17:].split(b"\r\n", 1)[0])
            if len(self._buffer) < end + 4 + length:
                return  # the body is still coming
            self._buffer = self._buffer[end + 4 + length:]
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            assert self._transport is not None
            self._transport.write(self._answer(method, target))

    def _answer(self, method: str, target: str) -> bytes:
        whole = self._answers.get((method, target))
        if whole is None:
            body = self._canned.answer(method, target)
            if body is None:
                print(f"canned backend: no answer for {method} {target}", file=sys.stderr,
                      flush=True)
                return _http(404, b'{"error":"not_found","error_message":"No such record"}')
            whole = self._answers[method, target] = _http(200, body)
        return whole


def _http(status: int, body: bytes) -> bytes:
    reason = "OK" if status == 200 else "Not Found"
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _announce(path: Path, text: str) -> None:
    path.write_text(text)


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-2000:] if log is not None else ""


def _serve_canned(port: int, rid_file: Path) -> int:
    canned = CannedSugar()
    answers: dict[tuple[str, str], bytes] = {}

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _CannedProtocol(canned, answers),
                                          "127.0.0.1", port)
        _announce(rid_file, canned.rid)  # once listening: the harness waits for the file
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(serve())
    return 0


# ---- processes --------------------------------------------------------------------------------


@dataclass
class Proc:
    """A process of the rig, whose CPU time is read."""

    pid: int

    def tree(self) -> list[int]:
        """This process and its children (a supervisor's workers)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return [self.pid]
        return [self.pid, *(int(p) for p in text.split())]


@dataclass
class Rig:
    backend: Proc
    redis_proc: Proc | None
    redis_url: str
    redis_info: redis.Redis  # one connection for INFO, so reading adds no connection commands
    gateways: dict[int, Proc]  # workers -> the `gateway serve` process
    urls: dict[int, str]
    rid: str
    notes: list[str] = field(default_factory=list)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the gateway drains (nothing in flight by then)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


@contextmanager
def _process(argv: list[str], out: IO[bytes] | int, err: IO[bytes] | int,
             **kw: Any) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            **kw)
    try:
        yield proc
    finally:
        _stop(proc)


async def _until(what: str, check: Any, proc: subprocess.Popen[bytes], log: Path | None,
                 within: float = 30.0) -> None:
    """Poll ``check()`` (sync or async) until true; fail with the process's log if it died."""
    deadline = time.monotonic() + within
    while True:
        if proc.poll() is not None:
            raise BenchError(f"{what}: exited with {proc.returncode}\n{_tail(log)}")
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not ready within {within:.0f} s")
        await asyncio.sleep(0.1)


async def _answers(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url) as resp:
            await resp.read()
            return True
    except aiohttp.ClientConnectionError:
        return False


async def _sugar_id(session: aiohttp.ClientSession, origin: str) -> str:
    """An Accounts id on the emulator (it is seeded with 250), read on a platform of its own
    (Sugar keeps one session per user and platform: the gateway uses base)."""
    body = {"grant_type": "password", "client_id": "sugar", "client_secret": "",
            "username": "admin", "password": "admin", "platform": "opi"}
    async with session.post(f"{origin}/rest/v10/oauth2/token", json=body) as resp:
        token = (await resp.json())["access_token"]
    async with session.get(f"{origin}/rest/v10/Accounts", params={"max_num": "1"},
                           headers={"OAuth-Token": token}) as resp:
        return str((await resp.json())["records"][0]["id"])


@asynccontextmanager
async def servers(args: argparse.Namespace,
                  session: aiohttp.ClientSession) -> AsyncIterator[Rig]:
    """The backend, Redis and both gateways, each its own process; all stopped on exit."""
    BENCH.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        async with AsyncExitStack() as stack:
            enter = stack.enter_context
            # Backend.
            port = free_port()
            origin = f"http://127.0.0.1:{port}"
            err = enter((BENCH / "workers_backend.stderr").open("wb"))
            if args.backend == "canned":
                rid_file = tmp / "rid"
                backend = enter(_process(
                    [py, "-m", "tests.bench.workers_bench", "backend", "--port", str(port),
                     "--rid-file", str(rid_file)], subprocess.DEVNULL, err))
                await _until("canned backend", rid_file.exists, backend, None)
                rid = rid_file.read_text()
            else:
                backend = enter(_process(
                    [py, "-m", "tests.bench.serve", "emulator", "--port", str(port),
                     "--control-port", str(free_port())], subprocess.DEVNULL, err))
                await _until("emulator", lambda: _answers(session, f"{origin}/rest/v10/ping"),
                             backend, None)
                rid = await _sugar_id(session, origin)
            # Redis: our own, so its commands and CPU are this bench's alone.
            redis_proc: Proc | None = None
            binary = shutil.which("redis-server")
            if binary is not None:
                rport = free_port()
                redis_url = f"redis://127.0.0.1:{rport}/0"
                rp = enter(_process(
                    [binary, "--bind", "127.0.0.1", "--port", str(rport), "--save", "",
                     "--appendonly", "no", "--dir", str(tmp)],
                    subprocess.DEVNULL, subprocess.DEVNULL))
                await _until("redis-server", lambda: redis_answers(redis_url, 0.2), rp, None)
                redis_proc = Proc(rp.pid)
            else:
                from tests.redis_server import redis_url as shared_redis

                found = shared_redis()
                if found is None:
                    raise BenchError("no Redis: install redis-server or run one on 6379")
                redis_url = found
                notes.append("Redis is the machine's shared one: its CPU is not measured (0) "
                             "and its command count may include other programs' commands")
            # The two gateways, as deployed.
            config = tmp / "gateway.yaml"
            config.write_text(gateway_config(origin, args.log_level) + (
                f"state:\n  backend: redis\n  url: {redis_url}\n"
                f"  prefix: 'workers-bench-{uuid.uuid4().hex}:'\n  secretKey: {SECRET}\n"),
                encoding="utf-8")
            gateways: dict[int, Proc] = {}
            urls: dict[int, str] = {}
            for workers in WORKERS:
                gw_port = free_port()
                log = BENCH / f"workers{workers}.log"
                out = enter(log.open("wb"))
                proc = enter(_process(
                    [py, "-m", "gateway", "serve", "--config", str(config), "--port",
                     str(gw_port), "--workers", str(workers)], out, subprocess.STDOUT))
                urls[workers] = f"http://127.0.0.1:{gw_port}"
                gateways[workers] = Proc(proc.pid)
                await _until(f"gateway --workers {workers}",
                             lambda u=urls[workers]: _answers(session, f"{u}/healthz"),
                             proc, log)
                if workers > 1:
                    gw = gateways[workers]
                    await _until(f"{workers} workers",
                                 lambda gw=gw, w=workers: len(gw.tree()) > w, proc, log)
            info = redis.Redis.from_url(redis_url)
            stack.callback(info.close)
            yield Rig(Proc(backend.pid), redis_proc, redis_url, info, gateways, urls, rid, notes)


# ---- measuring --------------------------------------------------------------------------------


def _call(rig: Rig, workers: int) -> Call:
    return Call("GET", f"{rig.urls[workers]}/v1/records/sugarcrm/Accounts/{rig.rid}?orgId={ORG}",
                {"Authorization": f"Bearer {API_KEY}"})


async def _check(session: aiohttp.ClientSession, rig: Rig) -> None:
    """Each gateway answers the record itself before anything is timed."""
    for workers in WORKERS:
        call = _call(rig, workers)
        async with session.get(call.url, headers=call.headers) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise BenchError(f"--workers {workers}: {resp.status} {text[:500]}")
            if json.loads(text)["data"].get("id") != rig.rid:
                raise BenchError(f"--workers {workers}: answered another record: {text[:300]}")


def _commands(rig: Rig) -> int:
    return int(rig.redis_info.info("stats")["total_commands_processed"])


@dataclass
class Leg:
    """One gateway's share of a round, per request."""

    rps: float
    gateway_us: float
    worker_us: list[float]  # each worker's (the supervisor's own CPU is in gateway_us only)
    backend_us: float
    client_us: float
    redis_us: float
    redis_cmds: float


async def _leg(session: aiohttp.ClientSession, rig: Rig, workers: int,
               args: argparse.Namespace) -> Leg:
    gw = rig.gateways[workers]
    tree = gw.tree()
    workers_pids = tree[1:] if workers > 1 else tree
    me = os.getpid()
    pids = {*tree, rig.backend.pid, me, *([rig.redis_proc.pid] if rig.redis_proc else [])}
    before = {pid: cpu_seconds(pid) for pid in pids}
    cmds = _commands(rig)
    n, call = args.requests, _call(rig, workers)
    spent = await (_raw_throughput(call, n, args.concurrency) if args.client == "raw"
                   else throughput(session, call, n, args.concurrency))
    # INFO itself is one command: the one read after the leg.
    cmds = _commands(rig) - cmds - 1
    used = {pid: (cpu_seconds(pid) - before[pid]) * 1e6 / n for pid in pids}
    return Leg(
        rps=n / spent,
        gateway_us=sum(used[p] for p in tree),
        worker_us=[used[p] for p in workers_pids],
        backend_us=used[rig.backend.pid],
        client_us=used[me],
        redis_us=used[rig.redis_proc.pid] if rig.redis_proc else 0.0,
        redis_cmds=cmds / n,
    )


async def _raw_throughput(call: Call, n: int, concurrency: int) -> float:
    """Seconds taken by ``n`` calls kept ``concurrency`` in flight, each worker on one
    keep-alive connection of its own, requests pre-encoded and answers read by their
    ``Content-Length``: a load generator that costs a fraction of aiohttp's client, so on two
    cores it leaves the CPU to the gateway."""
    url = urlsplit(call.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    target = f"{url.path}?{url.query}" if url.query else url.path
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **call.headers}.items())
    request = f"{call.method} {target} HTTP/1.1\r\n{head}\r\n".encode()
    left = iter(range(n))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in left:  # one shared iterator: workers take the next call when free
                writer.write(request)
                answer = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(answer)
                await reader.readexactly(length)
                if answer[9:12] != b"200":
                    raise BenchError(f"{call.method} {call.url} → {answer[9:12]!r} during the run")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


def _content_length(head: bytes) -> int:
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        raise BenchError(f"an answer without Content-Length: {head[:300]!r}")
    start = at + len(b"\r\ncontent-length:")
    return int(head[start:head.index(b"\r\n", start)])


def _watch(url: str, stop: str, ready: threading.Event, seen: list[dict[str, Any]]) -> None:
    """Every command Redis runs (MONITOR) until one mentions ``stop``."""
    client = redis.Redis.from_url(url)
    try:
        with client.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if stop in command["command"]:
                    return
                seen.append(command)
    finally:
        client.close()


async def _round_trips(rig: Rig, workers: int, n: int, concurrency: int) -> dict[str, Any]:
    """Redis commands per request over ``n`` calls, from Redis's MONITOR (untimed: MONITOR
    slows Redis). A round trip is a command a client sent; commands a script ran on the
    server (``lua``) are listed but are no round trip."""
    stop = f"workers-bench-stop-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(rig.redis_url)
    try:
        client.ping()  # connected before MONITOR starts: only its ECHO below is seen
        ready, seen = threading.Event(), []  # type: ignore[var-annotated]
        watcher = threading.Thread(target=_watch, args=(rig.redis_url, stop, ready, seen),
                                   daemon=True)
        watcher.start()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, ready.wait, 10)
        await _raw_throughput(_call(rig, workers), n, concurrency)
        client.echo(stop)
        await loop.run_in_executor(None, watcher.join, 10)
    finally:
        client.close()
    names = collections.Counter(
        ("lua " if c["client_type"] == "lua" else "") + c["command"].split(" ", 1)[0].upper()
        for c in seen)
    return {"round_trips": sum(v for k, v in names.items() if not k.startswith("lua ")) / n,
            "commands": {k: v / n for k, v in sorted(names.items())}}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session, \
            servers(args, session) as rg:
        await _check(session, rg)
        for workers in WORKERS:  # warm-up: the login, caches, both clients
            await throughput(session, _call(rg, workers), args.warmup, args.concurrency)
            await _raw_throughput(_call(rg, workers), args.warmup, args.concurrency)
        rounds: list[dict[int, Leg]] = []
        for r in range(args.rounds):
            order = WORKERS if r % 2 == 0 else WORKERS[::-1]
            legs = {w: await _leg(session, rg, w, args) for w in order}
            rounds.append(legs)
            print(_round_line(r + 1, legs), flush=True)
        redis_use = {w: await _round_trips(rg, w, args.monitor, args.concurrency)
                     for w in WORKERS}
        ratios = [legs[2].rps / legs[1].rps for legs in rounds]
        summary = {
            w: {key: _median([getattr(legs[w], key) for legs in rounds])
                for key in ("rps", "gateway_us", "backend_us", "client_us", "redis_us",
                            "redis_cmds")}
            for w in WORKERS
        }
        return {
            "backend": args.backend, "client": args.client, "requests": args.requests,
            "rounds": args.rounds, "monitor": args.monitor,
            "concurrency": args.concurrency, "log_level": args.log_level,
            "cpus": len(os.sched_getaffinity(0)), "notes": rg.notes,
            "per_round": [{str(w): vars(legs[w]) for w in WORKERS} for legs in rounds],
            "ratios": ratios, "summary": {str(w): v for w, v in summary.items()},
            "redis": {str(w): v for w, v in redis_use.items()},
            "target": {"throughput_ratio": f">= {TARGET}", "value": _median(ratios),
                       "pass": _median(ratios) >= TARGET},
            "capacity": _capacity(summary, len(os.sched_getaffinity(0))),
        }


def _capacity(summary: dict[int, dict[str, float]], cores: int) -> dict[str, float]:
    """What the CPU per request says each setup could do on this host with nothing else
    running: K workers use at most K cores, and the gateway, backend, Redis and client
    together at most every core. ``alone``: the ratio if the gateway had the cores to itself
    (the rig elsewhere): 2 workers' capacity over 1 worker's, from the gateway's CPU alone."""
    est = {}
    for w, v in summary.items():
        total = v["gateway_us"] + v["backend_us"] + v["client_us"] + v["redis_us"]
        est[w] = min(w * 1e6 / v["gateway_us"], cores * 1e6 / total)
    return {"rps_1": est[1], "rps_2": est[2], "ratio": est[2] / est[1],
            "alone": min(2, cores) * summary[1]["gateway_us"] / summary[2]["gateway_us"]}


def _round_line(n: int, legs: dict[int, Leg]) -> str:
    parts = []
    for w in WORKERS:
        leg = legs[w]
        split = "/".join(f"{u:.0f}" for u in leg.worker_us)
        parts.append(f"w{w} {leg.rps:7.0f} req/s gw {leg.gateway_us:4.0f} µs ({split})")
    return (f"round {n}: " + " | ".join(parts)
            + f" | ratio {legs[2].rps / legs[1].rps:.2f}")


def render(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [
        f"workers bench: GET one SugarCRM record through the gateway, concurrency "
        f"{result['concurrency']}, {result['requests']} calls per gateway per round, "
        f"{result['rounds']} rounds, backend {result['backend']}, client {result['client']}, "
        f"{result['cpus']} CPUs, "
        f"log level {result['log_level']}",
        "",
        "per request, median over rounds (CPU µs of each process during each leg):",
        f"{'':12}{'req/s':>8}{'gateway':>9}{'backend':>9}{'client':>8}{'redis':>7}"
        f"{'redis cmds':>12}",
    ]
    for w in WORKERS:
        v = s[str(w)]
        lines.append(f"{'--workers ' + str(w):12}{v['rps']:8.0f}{v['gateway_us']:9.0f}"
                     f"{v['backend_us']:9.0f}{v['client_us']:8.0f}{v['redis_us']:7.0f}"
                     f"{v['redis_cmds']:12.3f}")
    for w in WORKERS:
        use = result["redis"][str(w)]
        listed = ", ".join(f"{k} {v:.2f}" for k, v in use["commands"].items()) or "none"
        lines.append(f"Redis round trips per request, --workers {w}: {use['round_trips']:.2f} "
                     f"(MONITOR over {result['monitor']} calls: {listed})")
    lines += [
        "",
        "every round (workers 2 ÷ workers 1 throughput): "
        + ", ".join(f"{r:.2f}" for r in result["ratios"]),
        f"throughput ratio (median): {result['target']['value']:.2f}  target "
        f"{result['target']['throughput_ratio']}  "
        f"{'PASS' if result['target']['pass'] else 'FAIL'}",
    ]
    cap = result["capacity"]
    lines += [
        f"from CPU per request, with nothing else on the host: --workers 1 {cap['rps_1']:.0f} "
        f"req/s, --workers 2 {cap['rps_2']:.0f} req/s, ratio {cap['ratio']:.2f} (backend, "
        f"Redis and client on the same cores); {cap['alone']:.2f} with the cores the "
        "gateway's alone",
    ]
    lines += [f"note: {note}" for note in result["notes"]]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.bench.workers_bench",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=2000, help="calls per gateway per round")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--monitor", type=int, default=200,
                   help="calls per gateway sampled with Redis MONITOR for round trips")
    p.add_argument("--backend", choices=("canned", "emulator"), default="canned")
    p.add_argument("--client", choices=("raw", "aiohttp"), default="raw",
                   help="load generator: raw asyncio streams (cheap) or aiohttp's client")
    p.add_argument("--log-level", default="info")
    p.add_argument("--out", default=str(OUT))
    sub = p.add_subparsers(dest="what")
    backend = sub.add_parser("backend", help="(internal) the canned backend process")
    backend.add_argument("--port", type=int, required=True)
    backend.add_argument("--rid-file", type=Path, required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.what == "backend":
        return _serve_canned(args.port, args.rid_file)
    try:
        result = asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench aborted: {exc}", file=sys.stderr)
        return 2
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print()
    print(render(result))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
