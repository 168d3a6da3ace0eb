"""Config validation: source types from the registry, cross-references, consumers, secrets."""

from __future__ import annotations

import hashlib

import pytest

from gateway.config import ConfigError

ORG_OVERRIDE = """\
orgs:
  globex:
    sources:
      crm: {auth: {username: globex-user, password: ${GLOBEX_PASSWORD}}}
"""


def reasons(excinfo: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return dict(excinfo.value.problems)


def test_unknown_source_type_names_the_installed_types(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("type: sugarcrm", "type: salesforce"))
    reason = reasons(excinfo)["sources.crm.type"]
    assert reason.startswith("unknown source type 'salesforce'; installed: ")
    assert "dataservice, slingr, sugarcrm" in reason and "gateway connectors" in reason


def test_source_without_type(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("    type: sugarcrm\n", ""))
    assert "required key is missing" in reasons(excinfo)["sources.crm.type"]


def test_source_errors_come_from_the_type_model(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("    type: sugarcrm\n", "    type: sugarcrm\n    maxPerCall: 0\n"))
    assert list(reasons(excinfo)) == ["sources.crm.maxPerCall"]


def test_source_name_characters(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("  crm:", "  'my crm':"))
    assert "only letters, digits" in reasons(excinfo)["sources.my crm"]


def test_org_override_merges_auth_key_by_key(load, minimal, env):
    config = load(minimal + ORG_OVERRIDE, {**env, "GLOBEX_PASSWORD": "globex-pw"})
    merged = config.source_config("crm", "globex")
    assert merged.auth.username == "globex-user"
    assert merged.auth.password.get_secret_value() == "globex-pw"
    assert merged.auth.clientId == "sugar"  # not overridden: the source's own
    assert merged.base_url == config.sources["crm"].base_url
    assert config.source_config("crm", "globex") is merged  # cached
    assert config.source_config("crm", "acme") is config.sources["crm"]
    assert config.source_config("crm") is config.sources["crm"]
    with pytest.raises(KeyError):
        config.source_config("nope", "globex")


def test_org_override_of_unknown_source(load, minimal, env):
    text = minimal + ORG_OVERRIDE.replace("      crm:", "      crmm:")
    with pytest.raises(ConfigError) as excinfo:
        load(text, {**env, "GLOBEX_PASSWORD": "x"})
    assert reasons(excinfo) == {"orgs.globex.sources.crmm": "no source named 'crmm' (sources: crm)"}


def test_org_override_auth_is_validated_against_the_source_type(load, minimal, env):
    text = minimal + ORG_OVERRIDE.replace("${GLOBEX_PASSWORD}", "[not, a, string]")
    with pytest.raises(ConfigError) as excinfo:
        load(text, env)
    assert list(reasons(excinfo)) == ["orgs.globex.sources.crm.auth.password"]
    assert str(excinfo.value).startswith("cfg.yaml: orgs.globex.sources.crm.auth.password: ")


def test_org_override_unknown_auth_key(load, minimal, env):
    text = minimal + ORG_OVERRIDE.replace("username:", "user:")
    with pytest.raises(ConfigError) as excinfo:
        load(text, {**env, "GLOBEX_PASSWORD": "x"})
    assert reasons(excinfo) == {"orgs.globex.sources.crm.auth.user": "unknown key (a typo?)"}


@pytest.mark.parametrize(
    "keys",
    ["", f"    apiKeySha256: {'a' * 64}\n"],
    ids=["neither", "both"],
)
def test_consumer_needs_exactly_one_key_form(load, minimal, keys):
    text = minimal.replace("    apiKey: ${APP_KEY}\n", keys if keys else "")
    if keys:
        text = text.replace("    orgs: [acme]", "    apiKey: k-123\n    orgs: [acme]", 1)
    with pytest.raises(ConfigError) as excinfo:
        load(text)
    assert reasons(excinfo) == {"consumers[0]": "give exactly one of apiKey or apiKeySha256"}


def test_api_key_sha256_form(load, minimal):
    digest = hashlib.sha256(b"hashed-key").hexdigest().upper()
    config = load(minimal.replace("apiKey: ${APP_KEY}", f"apiKeySha256: {digest}"))
    assert config.consumers[0].key_sha256 == digest.lower()
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("apiKey: ${APP_KEY}", "apiKeySha256: abc"))
    assert "64 hexadecimal" in reasons(excinfo)["consumers[0].apiKeySha256"]


def test_empty_api_key_is_refused(load, minimal, env):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("${APP_KEY}", "'${APP_KEY:-}'"), {**env, "APP_KEY": ""})
    assert reasons(excinfo) == {"consumers[0].apiKey": "must not be empty"}


SECOND = """\
  - name: {name}
    {key}
    orgs: ["*"]
"""


def with_second_consumer(minimal: str, name: str, key: str) -> str:
    return minimal.replace("sources:\n", SECOND.format(name=name, key=key) + "sources:\n", 1)


def test_duplicate_api_keys(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(with_second_consumer(minimal, "other", "apiKey: app-key-123"))
    assert reasons(excinfo) == {"consumers[1].apiKey": "same API key as consumers[0]"}


def test_duplicate_api_key_given_once_plain_once_hashed(load, minimal):
    digest = hashlib.sha256(b"app-key-123").hexdigest()
    with pytest.raises(ConfigError) as excinfo:
        load(with_second_consumer(minimal, "other", f"apiKeySha256: {digest}"))
    assert reasons(excinfo) == {"consumers[1].apiKeySha256": "same API key as consumers[0]"}


def test_duplicate_consumer_names(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(with_second_consumer(minimal, "app", "apiKey: another-key"))
    assert reasons(excinfo) == {"consumers[1].name": "duplicate consumer name 'app'"}


def test_consumer_scope_and_org_rules(load, minimal):
    config = load(with_second_consumer(minimal, "ops", "apiKey: ops-key-1"))
    app, ops = config.consumers
    assert app.allows_org("acme") and not app.allows_org("globex")
    assert ops.allows_org("globex")  # "*"
    assert app.allows_source("crm")
    scoped = load(minimal.replace("orgs: [acme]", "orgs: [acme]\n    sources: [crm]"))
    assert scoped.consumers[0].allows_source("crm")
    assert not scoped.consumers[0].allows_source("erp")


def test_consumer_scope_must_name_existing_sources(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("orgs: [acme]", "orgs: [acme]\n    sources: [crm, erp]"))
    assert reasons(excinfo) == {"consumers[0].sources[1]": "no source named 'erp'"}


def test_consumer_needs_at_least_one_org(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("orgs: [acme]", "orgs: []"))
    assert list(reasons(excinfo)) == ["consumers[0].orgs"]


@pytest.mark.parametrize("size", [999, 0])
def test_max_page_size_below_1000_is_refused(load, minimal, size):
    with pytest.raises(ConfigError) as excinfo:
        load(f"server: {{maxPageSize: {size}}}\n" + minimal)
    assert "greater than or equal to 1000" in reasons(excinfo)["server.maxPageSize"]


def test_server_limits_accept_larger_values_and_any_log_level_case(load, minimal):
    config = load("server: {maxPageSize: 5000, logLevel: DEBUG, maxScanRecords: 7}\n" + minimal)
    assert (config.server.maxPageSize, config.server.logLevel) == (5000, "debug")
    assert config.server.maxScanRecords == 7


def test_config_is_frozen(load, minimal):
    config = load(minimal)
    with pytest.raises(ValueError):
        config.server.port = 1  # type: ignore[misc]


def test_secrets_lists_every_credential_and_nothing_else(load, minimal, env):
    config = load(minimal + ORG_OVERRIDE, {**env, "GLOBEX_PASSWORD": "globex-pw"})
    secrets = config.secrets()
    assert {"app-key-123", "s3cret-pw", "globex-pw"} <= set(secrets)
    assert "gw" not in secrets and "globex-user" not in secrets
    assert "" not in secrets  # the empty default clientSecret
    assert len(secrets) == len(set(secrets))
