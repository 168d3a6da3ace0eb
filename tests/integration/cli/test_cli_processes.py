"""`gateway emulator` and `gateway serve` as real processes: listen, answer, refuse bad config."""

from __future__ import annotations

import importlib
import signal
import subprocess

import aiohttp
import pytest


def importable(ref: str) -> bool:
    """``module:attr`` imports (a colleague's part may not have landed yet)."""
    module, _, attr = ref.partition(":")
    try:
        return hasattr(importlib.import_module(module), attr)
    except ImportError:
        return False


SUGAR_EMULATOR = "connectors.sugarcrm.emulator:create_app"
needs_sugar_emulator = pytest.mark.skipif(
    not importable(SUGAR_EMULATOR), reason=f"{SUGAR_EMULATOR} has not landed yet"
)
needs_http_app = pytest.mark.skipif(
    not importable("gateway.http.app:create_app"), reason="gateway.http.app has not landed yet"
)

GOOD = """\
server: {{host: 127.0.0.1, port: {port}}}
consumers: [{{name: app, apiKey: app-key-123, orgs: [acme]}}]
sources:
  crm:
    type: sugarcrm
    baseUrl: http://127.0.0.1:9/rest/v10
    auth: {{username: gw, password: ${{CLI_SUGAR_PASSWORD}}}}
"""


async def token(port: int, username: str, password: str) -> tuple[int, dict]:
    body = {
        "grant_type": "password",
        "client_id": "sugar",
        "client_secret": "",
        "username": username,
        "password": password,
        "platform": "base",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/rest/v10/oauth2/token", json=body) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


@needs_sugar_emulator
async def test_emulator_serves_sugar_token_endpoint(spawn, free_port, wait_listening):
    proc = spawn("emulator", "sugarcrm", "--port", str(free_port))
    wait_listening(proc, free_port)
    status, body = await token(free_port, "admin", "admin")
    assert status == 200
    assert body["token_type"] == "bearer" and body["access_token"]
    status, _ = await token(free_port, "admin", "wrong")
    assert status == 401
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "/rest/v10" in out and f"http://127.0.0.1:{free_port}" in out


@needs_sugar_emulator
async def test_emulator_takes_other_credentials(spawn, free_port, wait_listening):
    proc = spawn(
        "emulator",
        "sugarcrm",
        "--port",
        str(free_port),
        "--user",
        "alice",
        "--password",
        "wonderland",
    )
    wait_listening(proc, free_port)
    assert (await token(free_port, "alice", "wonderland"))[0] == 200
    assert (await token(free_port, "admin", "admin"))[0] == 401


def test_unknown_emulator_exits_2(spawn):
    proc = spawn("emulator", "salesforce", "--port", "0")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "no emulator named 'salesforce' (available: " in err


def test_emulator_needs_user_and_password_together(spawn):
    proc = spawn("emulator", "sugarcrm", "--user", "alice")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--user and --password together" in err


@pytest.mark.parametrize("broken", ["unknown key", "missing variable"])
def test_serve_with_bad_config_exits_2_before_listening(
    spawn, free_port, tmp_path, broken, is_listening
):
    text = GOOD.format(port=free_port)
    env = {"CLI_SUGAR_PASSWORD": "pw"}
    if broken == "unknown key":
        text = text.replace("server: {", "server: {prot: 1, ")
        expected = "server.prot: unknown key"
    else:
        env = {}
        expected = "sources.crm.auth.password: environment variable CLI_SUGAR_PASSWORD is not set"
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    proc = spawn("serve", "--config", str(path), env=env)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("serve kept running on a bad config")
    assert proc.returncode == 2
    assert err.startswith(f"{path}: {expected}")
    assert "Traceback" not in err
    assert not is_listening(free_port)


@needs_http_app
async def test_serve_listens_on_the_port_override_and_stops_on_sigterm(
    spawn, free_port, tmp_path, wait_listening
):
    path = tmp_path / "gateway.yaml"
    path.write_text(GOOD.format(port=1))  # --port wins over server.port
    proc = spawn(
        "serve", "--config", str(path), "--port", str(free_port), env={"CLI_SUGAR_PASSWORD": "pw"}
    )
    wait_listening(proc, free_port)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{free_port}/healthz") as resp,
    ):
        assert resp.status == 200
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert f"listening on http://127.0.0.1:{free_port}" in err


@needs_http_app
@pytest.mark.parametrize("asked", ["default", "asyncio"])
async def test_serve_runs_on_uvloop_when_installed_unless_asked_not_to(
    spawn, free_port, tmp_path, wait_listening, asked
):
    """uvloop is an optional extra (``recordgate[fast]``, in the image and the test install);
    ``RECORDGATE_LOOP=asyncio`` keeps asyncio's loop, and the gateway answers on either."""
    pytest.importorskip("uvloop")
    path = tmp_path / "gateway.yaml"
    path.write_text(GOOD.format(port=free_port))
    env = {"CLI_SUGAR_PASSWORD": "pw"} | ({"RECORDGATE_LOOP": "asyncio"} if asked == "asyncio"
                                         else {})
    proc = spawn("serve", "--config", str(path), env=env)
    wait_listening(proc, free_port)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{free_port}/healthz") as resp,
    ):
        assert resp.status == 200
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    loop = "asyncio" if asked == "asyncio" else "uvloop"
    assert f"listening on http://127.0.0.1:{free_port} ({loop} event loop)" in err
