"""Fixtures for the config tests: a minimal valid YAML and a loader that takes an explicit env."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from gateway.config import GatewayConfig, load_config_text

MINIMAL = """\
consumers:
  - name: app
    apiKey: ${APP_KEY}
    orgs: [acme]
sources:
  crm:
    type: sugarcrm
    baseUrl: http://127.0.0.1:9/rest/v10
    auth: {username: ${SUGAR_USER}, password: ${SUGAR_PASSWORD}}
"""

ENV = {"APP_KEY": "app-key-123", "SUGAR_USER": "gw", "SUGAR_PASSWORD": "s3cret-pw"}

Load = Callable[..., GatewayConfig]


@pytest.fixture
def minimal() -> str:
    return MINIMAL


@pytest.fixture
def env() -> dict[str, str]:
    return dict(ENV)


@pytest.fixture
def load() -> Load:
    def _load(text: str, env: Mapping[str, str] | None = None) -> GatewayConfig:
        return load_config_text(text, "cfg.yaml", dict(ENV) if env is None else env)

    return _load


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]
