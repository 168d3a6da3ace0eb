"""Loading YAML: ${VAR} expansion, YAML errors, and messages naming file and key path."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_config


def problems(excinfo: pytest.ExceptionInfo[ConfigError]) -> list[tuple[str, str]]:
    return excinfo.value.problems


def test_minimal_config_gets_documented_defaults(load, minimal):
    config = load(minimal)
    server = config.server
    assert (server.host, server.port, server.maxPageSize) == ("0.0.0.0", 8080, 1000)
    assert (server.maxBulkRequests, server.maxBodyBytes) == (1000, 10_485_760)
    assert (server.maxScanRecords, server.readyTimeout, server.logLevel) == (100_000, 5.0, "info")
    assert config.sources["crm"].base_url == "http://127.0.0.1:9/rest/v10"
    assert config.orgs == {}


def test_missing_env_var_names_file_key_and_variable(load, minimal, env):
    del env["SUGAR_PASSWORD"]
    with pytest.raises(ConfigError) as excinfo:
        load(minimal, env)
    assert str(excinfo.value) == (
        "cfg.yaml: sources.crm.auth.password: environment variable SUGAR_PASSWORD is not set"
    )


def test_every_missing_variable_is_reported_at_once(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal, {})
    assert [path for path, _ in problems(excinfo)] == [
        "consumers[0].apiKey",
        "sources.crm.auth.username",
        "sources.crm.auth.password",
    ]
    assert len(str(excinfo.value).splitlines()) == 3


def test_default_is_used_when_variable_is_unset_or_empty(load, minimal, env):
    text = minimal.replace("${SUGAR_USER}", "${SUGAR_USER:-fallback-user}")
    del env["SUGAR_USER"]
    assert load(text, env).sources["crm"].auth.username == "fallback-user"
    assert load(text, {**env, "SUGAR_USER": ""}).sources["crm"].auth.username == "fallback-user"
    assert load(text, {**env, "SUGAR_USER": "real"}).sources["crm"].auth.username == "real"


def test_empty_default_is_allowed(load, minimal, env):
    text = minimal.replace("auth: {", "auth: {clientSecret: '${SUGAR_SECRET:-}', ")
    assert load(text, env).sources["crm"].auth.clientSecret.get_secret_value() == ""


def test_variables_expand_inside_longer_strings(load, minimal, env):
    text = minimal.replace(
        "http://127.0.0.1:9/rest/v10", "https://${SUGAR_HOST}:${SUGAR_PORT:-8443}/rest/v10"
    )
    config = load(text, {**env, "SUGAR_HOST": "acme.example.com"})
    assert config.sources["crm"].base_url == "https://acme.example.com:8443/rest/v10"


def test_double_dollar_escapes_a_literal_reference(load, minimal, env):
    text = minimal.replace("${SUGAR_PASSWORD}", "'pa$${SUGAR_PASSWORD}ss'")
    config = load(text, env)  # SUGAR_PASSWORD is set, yet must not be substituted
    assert config.sources["crm"].auth.password.get_secret_value() == "pa${SUGAR_PASSWORD}ss"


def test_unclosed_reference_is_an_error(load, minimal):
    text = minimal.replace("${APP_KEY}", "'abc${APP_KEY'")
    with pytest.raises(ConfigError) as excinfo:
        load(text)
    assert problems(excinfo)[0][0] == "consumers[0].apiKey"
    assert "never closed" in problems(excinfo)[0][1]


def test_bad_variable_name_is_an_error(load, minimal):
    text = minimal.replace("${APP_KEY}", "${1APP}")
    with pytest.raises(ConfigError) as excinfo:
        load(text)
    assert problems(excinfo) == [
        ("consumers[0].apiKey", "bad variable reference '${1APP}': use ${NAME} or ${NAME:-default}")
    ]


def test_whole_value_reference_is_coerced_to_the_field_type(load, minimal, env):
    text = "server: {port: ${PORT}, readyTimeout: ${READY:-2.5}}\n" + minimal
    config = load(text, {**env, "PORT": "9090"})
    assert (config.server.port, config.server.readyTimeout) == (9090, 2.5)


def test_spec_flow_mapping_with_references_parses(load):
    # The spec writes `auth: {username: ${SUGAR_USER}, ...}`: braces inside a flow mapping.
    text = """\
consumers: [{name: a, apiKey: ${APP_KEY}, orgs: [acme]}]
sources:
  crm:
    type: sugarcrm
    baseUrl: https://acme.sugarondemand.com/rest/v10
    auth: {username: ${SUGAR_USER}, password: ${SUGAR_PASSWORD}, clientId: sugar,
           clientSecret: "", platform: base}
"""
    auth = load(text).sources["crm"].auth
    assert (auth.username, auth.password.get_secret_value()) == ("gw", "s3cret-pw")


def test_unknown_key_is_named_with_its_path(load, minimal):
    text = minimal.replace("auth: {", "auth: {pasword: x, ")
    with pytest.raises(ConfigError) as excinfo:
        load(text)
    assert problems(excinfo) == [("sources.crm.auth.pasword", "unknown key (a typo?)")]


def test_unknown_top_level_and_server_keys(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load("sever: {}\nserver: {prot: 1}\n" + minimal)
    assert sorted(path for path, _ in problems(excinfo)) == ["server.prot", "sever"]


def test_bad_type_names_key_and_expectation(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load("server: {port: eighty}\n" + minimal)
    ((path, reason),) = problems(excinfo)
    assert path == "server.port"
    assert "integer" in reason


def test_missing_required_key(load, minimal):
    with pytest.raises(ConfigError) as excinfo:
        load(minimal.replace("    baseUrl: http://127.0.0.1:9/rest/v10\n", ""))
    assert problems(excinfo) == [("sources.crm.baseUrl", "required key is missing")]


def test_duplicate_yaml_key_is_refused_with_both_lines(load, minimal):
    text = minimal + "  crm:\n    type: sugarcrm\n"
    with pytest.raises(ConfigError) as excinfo:
        load(text)
    ((where, reason),) = problems(excinfo)
    assert where == "line 10, column 3"
    assert reason == "invalid YAML: duplicate key 'crm' (first given on line 6)"


def test_merge_key_may_be_overridden(load, minimal):
    text = (
        minimal
        + """\
  crm2:
    <<: &base {type: sugarcrm, baseUrl: http://a/rest/v10, auth: {username: u, password: p}}
    baseUrl: http://b/rest/v10
"""
    )
    assert load(text).sources["crm2"].base_url == "http://b/rest/v10"


def test_yaml_syntax_error_gives_line_and_column(load):
    with pytest.raises(ConfigError) as excinfo:
        load("server:\n  port: 8080\n  host: [unclosed\nconsumers: []\n")
    text = str(excinfo.value)
    assert text.startswith("cfg.yaml: line ")
    assert "invalid YAML" in text


def test_empty_file_and_non_mapping_top_level(load):
    with pytest.raises(ConfigError, match=r"cfg\.yaml: the file is empty"):
        load("# nothing\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load("- a\n- b\n")


def test_unreadable_file_is_a_config_error(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as excinfo:
        load_config(missing, {})
    assert str(excinfo.value) == f"{missing}: cannot read the file: No such file or directory"


def test_load_config_reads_the_process_environment_by_default(tmp_path, minimal, monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "gateway.yaml"
    path.write_text(minimal)
    config = load_config(path)
    assert config.consumers[0].apiKey.get_secret_value() == "app-key-123"
