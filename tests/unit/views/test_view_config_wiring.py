"""A ``type: view`` source in the gateway's config: accepted beside the backends, and what can be
checked without describing the members (their source names) fails the load naming the key."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gateway.config.load import ConfigError, load_config_text
from gateway.views.config import ViewSource

SUGAR = {"type": "sugarcrm", "baseUrl": "http://127.0.0.1:1/rest/v10",
         "auth": {"username": "u", "password": "p", "clientId": "sugar", "platform": "base"}}


def _text(view: dict[str, Any], **more: Any) -> str:
    return yaml.safe_dump({
        "consumers": [{"name": "c", "apiKey": "k-0001", "orgs": ["acme"]}],
        "sources": {"crm": SUGAR, "all": view, **more},
    })


def _view(source: str = "crm") -> dict[str, Any]:
    return {"type": "view", "entities": {"customers": {
        "fields": {"name": "string"},
        "from": [{"source": source, "entity": "Accounts", "map": {"name": "name"}}]}}}


def test_a_view_source_loads_beside_the_backends() -> None:
    config = load_config_text(_text(_view()), "t.yaml", env={})
    assert isinstance(config.sources["all"], ViewSource)
    assert set(config.views()) == {"all"} and set(config.backends()) == {"crm"}


def test_an_unknown_member_source_names_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(_text(_view("nowhere")), "t.yaml", env={})
    assert "sources.all.entities.customers.from[0].source" in str(caught.value)
    assert "nowhere" in str(caught.value)


def test_a_view_cannot_be_a_member_of_a_view() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(_text(_view(), other=_view("all")), "t.yaml", env={})
    assert "sources.other.entities.customers.from[0].source" in str(caught.value)


def test_a_view_takes_no_org_auth() -> None:
    text = _text(_view()).rstrip() + "\norgs: {acme: {sources: {all: {auth: {x: 1}}}}}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "t.yaml", env={})
    assert "orgs.acme.sources.all" in str(caught.value)
