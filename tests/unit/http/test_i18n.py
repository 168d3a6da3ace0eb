"""Locale spellings and the catalog's fallbacks (the files themselves: test_messages.py)."""

from __future__ import annotations

import pytest

from gateway.i18n import Message, UnknownLocale, lookup, parse_locale, translate


@pytest.mark.parametrize(("given", "expected"), [
    (None, "en-US"), ("", "en-US"), ("en_US", "en-US"), ("ZH-cn", "zh-CN"), ("ja", "ja-JP"),
    ("es_ES", "es-ES"), (" es-es ", "es-ES"),
])
def test_parse_locale(given: str | None, expected: str) -> None:
    assert parse_locale(given) == expected


@pytest.mark.parametrize("bad", ["fr-FR", "xx", "zh-TW", "en-US-x"])
def test_unknown_locale(bad: str) -> None:
    with pytest.raises(UnknownLocale):
        parse_locale(bad)


def test_translate_fills_params_and_falls_back() -> None:
    assert translate("unknown_source", "es-ES", {"source": "crm"}) == "Fuente desconocida 'crm'"
    assert translate("no_such_key", "ja-JP", {}, "English text") == "English text"
    assert translate("no_such_key", "ja-JP", {}) == "no_such_key"
    # A template whose parameter is missing never shows "{source}" to a user.
    assert translate("unknown_source", "zh-CN", {}, "fallback") == "fallback"
    assert lookup("unknown_source", "zh-CN", {}) is None


def test_a_locale_without_the_file_speaks_english() -> None:
    assert translate("unknown_source", "fr-FR", {"source": "crm"}) == "Unknown source 'crm'"


def test_a_message_as_a_parameter_is_rendered_in_the_same_locale() -> None:
    inner = Message("unknown_source", {"source": "crm"})
    assert translate("bad_json", "es-ES", {"error": inner}) == (
        "No es un JSON válido: Fuente desconocida 'crm'")


def test_free_text_in_a_parameter_is_never_a_template() -> None:
    assert translate("unknown_source", "en-US", {"source": "{0} {source.__class__}"}) == (
        "Unknown source '{0} {source.__class__}'")
