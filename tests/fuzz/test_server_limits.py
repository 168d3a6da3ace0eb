"""`gateway serve` and `gateway demo` listen with the gateway's parser bounds, not aiohttp's.

A request line or header between aiohttp's default 8 KiB and our bound reaches the app; past
our bound it is a 400 from the parser; the process keeps serving either way.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.http.protocol import MAX_FIELD_SIZE, MAX_LINE_SIZE
from tests.fuzz.conftest import DemoProcess

AIOHTTP_DEFAULT = 8190
CONFIG = """\
server: {host: 127.0.0.1}
consumers: [{name: app, apiKey: k, orgs: [acme]}]
sources:
  crm:
    type: sugarcrm
    baseUrl: http://127.0.0.1:9/rest/v10
    auth: {username: u, password: p, clientId: sugar}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def serve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("serve")
    config = folder / "gateway.yaml"
    config.write_text(CONFIG)
    port = _free_port()
    with (folder / "serve.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(config),
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(Path(folder / "serve.log").read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(params=["serve", "demo"])
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "serve":
        return str(request.getfixturevalue("serve_url"))
    demo: DemoProcess = request.getfixturevalue("demo_process")
    return demo.url


def test_a_url_past_aiohttps_default_reaches_the_app(url: str) -> None:
    padding = "a" * (AIOHTTP_DEFAULT + 4000)
    assert requests.get(f"{url}/healthz?pad={padding}", timeout=10).status_code == 200


def test_a_url_past_our_bound_is_400_and_the_server_stays_up(url: str) -> None:
    for size in (MAX_LINE_SIZE + 1, 100_000):
        resp = requests.get(f"{url}/healthz?pad={'a' * size}", timeout=10)
        assert resp.status_code == 400
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200


def test_headers_between_the_bounds_pass_and_past_ours_are_400(url: str) -> None:
    ok = requests.get(f"{url}/healthz", headers={"X-Pad": "b" * (AIOHTTP_DEFAULT + 2000)},
                      timeout=10)
    assert ok.status_code == 200
    for size in (MAX_FIELD_SIZE + 1, 100_000):
        resp = requests.get(f"{url}/healthz", headers={"X-Pad": "b" * size}, timeout=10)
        assert resp.status_code == 400
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
