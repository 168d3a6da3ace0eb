"""`gateway check-config FILE`: what a user sees and the exit code, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys

MINIMAL = """\
consumers: [{name: app, apiKey: app-key-123, orgs: [acme]}]
sources:
  crm:
    type: sugarcrm
    baseUrl: http://127.0.0.1:9/rest/v10
    auth: {username: gw, password: ${CHECK_SUGAR_PASSWORD}}
"""


def gateway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHECK_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **(env or {})},
    )


def test_valid_config_prints_ok_and_exits_0(tmp_path):
    path = tmp_path / "gateway.yaml"
    path.write_text(MINIMAL)
    result = gateway("check-config", str(path), env={"CHECK_SUGAR_PASSWORD": "pw"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{path}: OK (1 sources, 1 consumers)\n"


def test_invalid_config_prints_path_to_stderr_and_exits_2(tmp_path):
    path = tmp_path / "gateway.yaml"
    path.write_text(MINIMAL)
    result = gateway("check-config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{path}: sources.crm.auth.password: environment variable CHECK_SUGAR_PASSWORD is not set\n"
    )


def test_missing_file_exits_2(tmp_path):
    result = gateway("check-config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert "cannot read the file" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_syntax_error_exits_2_with_line(tmp_path):
    path = tmp_path / "gateway.yaml"
    path.write_text("server:\n  port: [8080\n")
    result = gateway("check-config", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}: line ")


def test_version_and_usage():
    version = gateway("--version")
    assert version.returncode == 0 and version.stdout.startswith("recordgate ")
    assert gateway().returncode == 2  # no command: argparse usage error
