"""A `gateway demo` process on a free loopback port, its output kept in a file for the tests."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BANNER = re.compile(r"gateway on (http://127\.0\.0\.1:\d+)")


@dataclass
class DemoProcess:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def demo_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    """``gateway demo --port 0`` as a user starts it: the CLI's own server limits apply."""
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    with log.open("wb") as out:
        # Output to a file, not a pipe: a pipe nobody reads would stall the server's logging.
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "demo", "--port", "0", "--host", "127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            found = BANNER.search(log.read_text(errors="replace"))
            if found:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway demo did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield DemoProcess(found.group(1), proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
