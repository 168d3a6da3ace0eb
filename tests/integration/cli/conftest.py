"""Fixtures for running `gateway` as a real process: free ports, spawn, wait until listening."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

Spawn = Callable[..., subprocess.Popen[str]]


def _is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_listening(proc: subprocess.Popen[str], port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"exited {proc.returncode} before listening:\n{out}\n{err}")
        if _is_listening(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listening on {port} after {timeout}s")


@pytest.fixture
def is_listening() -> Callable[[int], bool]:
    """Whether something accepts connections on 127.0.0.1:port."""
    return _is_listening


@pytest.fixture
def wait_listening() -> Callable[[subprocess.Popen[str], int], None]:
    """Wait until the process listens on the port; fail at once if it exits first."""
    return _wait_listening


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start ``python -m gateway ARGS``; every process started is killed at teardown."""
    procs: list[subprocess.Popen[str]] = []

    def _spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        procs.append(proc)
        return proc

    yield _spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
