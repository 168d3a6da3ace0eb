"""The YAML files we ship: the example validates, the demo config matches its packaged copy."""

from __future__ import annotations

import re

from gateway import demo
from gateway.config import load_config
from gateway.config.load import build_config, parse_yaml
from gateway.registry import connector_types

EXAMPLE_ENV = {
    "BILLING_API_KEY": "billing-key-1",
    "REPORTING_API_KEY_SHA256": "ab" * 32,
    "SUGAR_USER": "gateway",
    "SUGAR_PASSWORD": "sugar-pw",
    "GLOBEX_SUGAR_USER": "globex",
    "GLOBEX_SUGAR_PASSWORD": "globex-pw",
}


def test_example_config_loads_with_its_variables_set(repo_root):
    config = load_config(repo_root / "config" / "gateway.example.yaml", EXAMPLE_ENV)
    assert list(config.sources) == ["crm"]
    assert [c.name for c in config.consumers] == ["billing-app", "reporting"]
    assert config.source_config("crm", "globex").auth.username == "globex"
    assert config.sources["crm"].base_url == "https://acme.sugarondemand.com/rest/v10"


def test_example_config_names_every_variable_it_needs(repo_root):
    text = (repo_root / "config" / "gateway.example.yaml").read_text()
    live = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", live))
    assert needed == set(EXAMPLE_ENV)


def test_packaged_demo_yaml_is_the_repo_file(repo_root):
    assert (repo_root / "config" / "demo.yaml").read_text() == demo.DEMO_YAML


def test_demo_config_validates_for_the_emulated_types():
    emulated = {name: "http://127.0.0.1:1" for name, t in connector_types().items() if t.emulator}
    data = demo._keep_emulated(parse_yaml(demo.DEMO_YAML, "demo.yaml"), emulated)
    env = {demo.env_var(name): origin for name, origin in emulated.items()}
    config = build_config(data, "demo.yaml", env)
    backends = {s for s in ("sugarcrm", "slingr", "dataservice") if s in emulated}
    # the view all/customers is kept only with both of its members
    view = {"all"} if {"sugarcrm", "slingr"} <= backends else set()
    assert set(config.sources) == backends | view
    assert config.consumers[0].apiKey.get_secret_value() == demo.DEMO_KEY
    assert config.consumers[0].orgs == [demo.DEMO_ORG]
    if "sugarcrm" in config.sources:
        assert config.sources["sugarcrm"].base_url == "http://127.0.0.1:1/rest/v10"
