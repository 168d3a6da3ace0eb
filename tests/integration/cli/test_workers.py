"""`gateway serve --workers 2` as a real process tree on loopback (spec §14): both workers answer
on one port, /metrics adds up every worker, SIGTERM to the supervisor drains each worker and
exits 0, and the memory state store refuses more than one worker before anything listens."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import gateway_config_text
from tests.contract.backends import HARNESSES
from tests.integration.cli.conftest import _is_listening
from tests.integration.lifecycle.served import eventually
from tests.redis_server import require_redis

ORG = "acme"
AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    """``python -m gateway ARGS`` with stdout and stderr in files (``proc.out()``,
    ``proc.err()``): every request logs a line, and a pipe nobody reads while the test runs
    would fill and stall the workers. Killed at teardown if still running."""
    procs: list[subprocess.Popen[str]] = []

    def _spawn(*args: str) -> subprocess.Popen[str]:
        out, err = tmp_path / f"out{len(procs)}", tmp_path / f"err{len(procs)}"
        with out.open("w") as out_file, err.open("w") as err_file:
            proc = subprocess.Popen([sys.executable, "-m", "gateway", *args], text=True,
                                    stdout=out_file, stderr=err_file, env=dict(os.environ))
        proc.err = err.read_text  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield _spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()  # its workers see their stdin close and stop
            proc.wait(timeout=10)


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name]


async def _workers(spawn: Any, tmp_path: Path, port: int, aiohttp_server: Any,
                   **server: Any) -> tuple[Any, subprocess.Popen[str]]:
    h = HARNESSES["slingr"]()
    await h.start(aiohttp_server)  # in this process: the test must never block the loop
    config = tmp_path / "gateway.yaml"
    text = gateway_config_text({"slingr": h.source()}, server=server)
    text += (f"state:\n  backend: redis\n  url: {require_redis()}\n"
             f"  prefix: 'test-workers-{uuid.uuid4().hex}:'\n  secretKey: workers-state-key-0001\n")
    config.write_text(text)
    proc = spawn("serve", "--config", str(config), "--port", str(port), "--workers", "2")
    await eventually(lambda: _is_listening(port) or proc.poll() is not None, 30, "listening")
    assert proc.poll() is None, proc.err()
    await eventually(lambda: len(_children(proc.pid)) == 2, 10, "two workers")
    return h, proc


async def test_both_workers_answer_and_metrics_add_up(
    spawn: Any, free_port: int, tmp_path: Path, aiohttp_server: Any
) -> None:
    _, proc = await _workers(spawn, tmp_path, free_port, aiohttp_server)
    url = f"http://127.0.0.1:{free_port}"
    sent = 0
    pids: set[str] = set()

    async def get(path: str) -> str:
        # A connection per request: the kernel picks a worker per connection.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
            async with s.get(url + path) as resp:
                text = await resp.text()
                # A failed answer says why: the workers' own log has the traceback.
                assert resp.status == 200, f"{text}\n{proc.err()[-4000:]}"
                return text

    async def both_answered() -> bool:
        nonlocal sent, pids
        for _ in range(8):
            await get("/healthz")
            sent += 1
        scrape = await get("/metrics")
        pids = {labels["pid"] for labels, v in _samples(scrape, "gateway_worker_requests")
                if v > 0}
        return len(pids) == 2

    deadline = asyncio.get_running_loop().time() + 30
    while not await both_answered():
        assert asyncio.get_running_loop().time() < deadline, f"only workers {pids} answered"
    assert {int(p) for p in pids} == _children(proc.pid)  # the supervisor's two workers

    scrape = await get("/metrics")
    healthz = sum(v for labels, v in _samples(scrape, "gateway_requests_total")
                  if labels["route"] == "/healthz")
    assert healthz == sent  # every worker's count, added up
    per_worker = dict((labels["pid"], v) for labels, v
                      in _samples(scrape, "gateway_worker_requests"))
    assert all(v > 0 for v in per_worker.values()) and len(per_worker) == 2
    # Each worker's answered requests, /metrics scrapes included, add up to the sum of all.
    total = sum(v for _, v in _samples(scrape, "gateway_requests_total"))
    assert sum(per_worker.values()) == total

    proc.send_signal(signal.SIGTERM)
    await eventually(lambda: proc.poll() is not None, 30, "the supervisor exited")
    assert proc.returncode == 0


async def test_sigterm_drains_every_worker_and_exits_0(
    spawn: Any, free_port: int, tmp_path: Path, aiohttp_server: Any
) -> None:
    h, proc = await _workers(spawn, tmp_path, free_port, aiohttp_server, drainTimeout=30)
    url = f"http://127.0.0.1:{free_port}/v1/records/slingr/companies"
    reads = 16

    async def read() -> int:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
            async with s.get(url, params={"orgId": ORG, "pageSize": "1"}, headers=AUTH) as resp:
                await resp.read()
                return resp.status

    async def in_flight() -> float:
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{free_port}/metrics") as resp:
                scrape = await resp.text()
                # A failed scrape says why: the workers' own log has the traceback.
                assert resp.status == 200, f"{scrape}\n{proc.err()[-4000:]}"
        return sum(v for labels, v in _samples(scrape, "gateway_bulkhead_in_flight")
                   if labels["source"] == "slingr")

    h.emulator.faults.latency = 3.0
    answers = asyncio.gather(*(read() for _ in range(reads)))
    # All reads are waiting on the backend, spread over both workers: the gauge adds up the
    # live workers' bulkheads (each samples its own every second, and the one scraped at once).
    deadline = asyncio.get_running_loop().time() + 15
    while (seen := await in_flight()) != reads:
        assert asyncio.get_running_loop().time() < deadline, f"{seen} calls in flight"
    assert not answers.done()
    proc.send_signal(signal.SIGTERM)
    statuses = await asyncio.wait_for(answers, 30)
    assert statuses == [200] * reads  # drained: none was cut
    await eventually(lambda: proc.poll() is not None, 30, "the supervisor exited")
    err = proc.err()
    assert proc.returncode == 0, err
    assert err.count("gateway: stopping (up to") == 2, err  # the signal reached each worker
    assert not _is_listening(free_port)


def test_memory_state_refuses_more_than_one_worker(
    spawn: Any, free_port: int, tmp_path: Path
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(gateway_config_text({"slingr": {
        "type": "slingr", "baseUrl": "http://127.0.0.1:9/app",
        "auth": {"email": "a@example.com", "password": "pw"}}}))
    proc = spawn("serve", "--config", str(config), "--port", str(free_port), "--workers", "2")
    proc.wait(timeout=30)
    err = proc.err()
    assert proc.returncode == 2, err
    assert f"{config}: state.backend: --workers 2 needs state.backend: redis" in err
    assert "listening" not in err and not _is_listening(free_port)
