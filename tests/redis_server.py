"""A Redis for the tests: the machine's own on 127.0.0.1:6379, else one started on a free port.

Tests that need Redis ask :func:`redis_url` (one answer per test process). When no Redis answers
and ``redis-server`` is installed, one is started for the process, keeping nothing on disk, and
stopped at exit. When there is none at all the tests skip, except under CI (``CI`` set), where
a skipped Redis test would hide the store the replicas share: there they fail.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

__all__ = ["redis_url", "require_redis"]

DEFAULT_URL = "redis://127.0.0.1:6379/15"
_answer: str | bool | None = False  # False: not looked for yet; None: none to be had


def _answers(url: str, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_own() -> str | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="recordgate-redis-")
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    url = f"redis://127.0.0.1:{port}/15"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if _answers(url, timeout=0.2):
            return url
        time.sleep(0.05)
    return None


def redis_url() -> str | None:
    """A Redis URL that answers, or None when none can be had here."""
    global _answer
    if _answer is False:
        _answer = DEFAULT_URL if _answers(DEFAULT_URL) else _start_own()
    return _answer if isinstance(_answer, str) else None


def require_redis() -> str:
    """The URL, else skip the test (fail it under CI, where Redis must be there)."""
    url = redis_url()
    if url is None:
        message = "no Redis at 127.0.0.1:6379 and no redis-server to start one"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI runs every Redis test", pytrace=False)
        pytest.skip(message)
    return url
