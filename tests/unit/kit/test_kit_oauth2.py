"""The one OAuth2 token decoder: what a token answer must hold, and the lifetime it gives."""

from __future__ import annotations

import time

import pytest

from gateway.errors import BackendFailure
from gateway.kit.oauth2 import DEFAULT_LIFETIME, decode_token


def decode(body: object):
    return decode_token(body, source="crm", issuer="SugarCRM")


def test_a_token_answer_gives_access_refresh_and_lifetime() -> None:
    before = time.monotonic()
    token = decode({"access_token": "a", "refresh_token": "r", "expires_in": 120})
    assert (token.access, token.refresh, token.lifetime) == ("a", "r", 120.0)
    assert before + 120 <= token.expires_at <= time.monotonic() + 120


@pytest.mark.parametrize("expires_in", [True, False, 0, -5, "3600", None, [60]])
def test_a_lifetime_that_is_not_a_positive_number_is_the_default(expires_in: object) -> None:
    # JSON true is a boolean, not one second (Sugar's decoder once took it as 1 s).
    token = decode({"access_token": "a", "expires_in": expires_in})
    assert token.lifetime == DEFAULT_LIFETIME


def test_a_float_lifetime_is_kept() -> None:
    assert decode({"access_token": "a", "expires_in": 1.5}).lifetime == 1.5


@pytest.mark.parametrize("body", [None, [], "tok", {}, {"access_token": ""},
                                  {"access_token": 5}])
def test_an_answer_without_an_access_token_is_a_malformed_token(body: object) -> None:
    with pytest.raises(BackendFailure) as caught:
        decode(body)
    assert caught.value.sent is True
    assert caught.value.source is not None and caught.value.source.error == "malformed_token"
    assert "crm: SugarCRM token answer has no access_token" in str(caught.value)


def test_a_refresh_token_that_is_not_a_string_is_none() -> None:
    assert decode({"access_token": "a", "refresh_token": 7}).refresh is None
    assert decode({"access_token": "a", "refresh_token": ""}).refresh is None
