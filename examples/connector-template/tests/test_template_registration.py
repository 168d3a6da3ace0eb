"""The template is a plugin like any third-party connector: found through its entry point,
listed by `gateway connectors`, usable from YAML, served by `gateway emulator template`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.config.load import ConfigError, load_config

YAML = """\
consumers:
  - {name: app, apiKey: "${APP_KEY}", orgs: [acme]}
sources:
  tasks:
    type: template
    baseUrl: http://127.0.0.1:8090
    auth: {username: admin, password: "${TASKS_PASSWORD}"}
    maxPerCall: 20
"""


def gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_gateway_connectors_lists_the_template_with_its_package() -> None:
    done = gateway("connectors")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:]}
    assert rows["template"] == ["template", "recordgate-connector-template", "0.1.0", "entry",
                                "point", "recordgate_template:CONNECTOR_TYPE"]


def test_a_yaml_source_of_type_template_loads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("APP_KEY", "k")
    monkeypatch.setenv("TASKS_PASSWORD", "admin")
    path = tmp_path / "gateway.yaml"
    path.write_text(YAML)
    source = load_config(str(path)).sources["tasks"]
    assert (source.type, source.maxPerCall) == ("template", 20)


def test_the_template_config_model_checks_its_keys(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("APP_KEY", "k")
    monkeypatch.setenv("TASKS_PASSWORD", "admin")
    path = tmp_path / "gateway.yaml"
    path.write_text(YAML.replace("maxPerCall: 20", "maxPerCall: 500"))
    try:
        load_config(str(path))
    except ConfigError as exc:
        assert "sources.tasks.maxPerCall" in str(exc) and str(path) in str(exc)
    else:
        raise AssertionError("maxPerCall over the backend's 50 was accepted")
