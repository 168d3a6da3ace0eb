"""The message catalog: locale spellings, fallbacks, coverage of every message raised."""

from __future__ import annotations

import string

import pytest

import gateway.errors as errors
from gateway.i18n import CATALOG, LOCALES, UnknownLocale, parse_locale, translate
from gateway.query.parse import MESSAGES


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
    # A template whose parameter is missing never shows "{source}" to a user.
    assert translate("unknown_source", "zh-CN", {}, "fallback") == "fallback"


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _error_ids() -> set[str]:
    return {
        cls.error for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.GatewayError)
    }


@pytest.mark.parametrize("key", sorted(set(MESSAGES) | _error_ids()))
def test_every_raised_message_has_four_real_translations(key: str) -> None:
    entry = CATALOG[key]
    assert set(entry) == set(LOCALES)
    english = entry["en-US"]
    for locale in LOCALES:
        assert _placeholders(entry[locale]) == _placeholders(english), locale
        if locale != "en-US":
            assert entry[locale] != english, locale


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_catalog_english_matches_the_parser(key: str) -> None:
    assert _placeholders(CATALOG[key]["en-US"]) == _placeholders(MESSAGES[key])
