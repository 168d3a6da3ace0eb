"""Message catalogs (message key and locale → template), loaded from ``gateway/messages/``, and
locale parsing (``en_US`` = ``en-US``).

Each locale is one file, ``gateway/messages/<locale>.yaml``, a flat mapping of message key to
template with ``{name}`` placeholders; the locales the gateway speaks are the files present.
``en-US.yaml`` holds every key and is the only source of English: raisers pass a key and
parameters, never text. A locale lacking a key falls back to English; a key the catalog lacks,
or a template whose parameters were not given, renders as the key itself, so a message never
fails a request.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CATALOGS", "DEFAULT_LOCALE", "KEYS", "LOCALES", "Message", "UnknownLocale", "is_key",
    "lookup", "parse_locale", "translate",
]

DEFAULT_LOCALE = "en-US"
MESSAGES_DIR = Path(__file__).with_name("messages")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(path: Path) -> dict[str, str]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path}: expected a flat mapping of message key to template")
    return data


def _load_all() -> dict[str, dict[str, str]]:
    found = {path.stem: _load(path) for path in sorted(MESSAGES_DIR.glob("*.yaml"))}
    if DEFAULT_LOCALE not in found:
        raise RuntimeError(f"{MESSAGES_DIR}: {DEFAULT_LOCALE}.yaml (the English) is missing")
    return found


# locale → key → template, read once at import.
CATALOGS: Mapping[str, Mapping[str, str]] = _load_all()
KEYS: frozenset[str] = frozenset(CATALOGS[DEFAULT_LOCALE])
LOCALES: tuple[str, ...] = (DEFAULT_LOCALE, *sorted(set(CATALOGS) - {DEFAULT_LOCALE}))
_BY_LOWER = {loc.lower(): loc for loc in LOCALES}
# A bare language picks its only region here; refuse rather than guess when that changes.
_BY_LANGUAGE = {loc.split("-")[0].lower(): loc for loc in LOCALES}


class UnknownLocale(ValueError):
    """The asked locale is not one the gateway speaks."""


def parse_locale(value: str | None) -> str:
    """``zh_CN``, ``zh-cn``, ``zh`` → ``zh-CN``; None or empty → the default; else UnknownLocale."""
    if value is None or not value.strip():
        return DEFAULT_LOCALE
    norm = value.strip().replace("_", "-").lower()
    found = _BY_LOWER.get(norm) or _BY_LANGUAGE.get(norm)
    if found is None:
        raise UnknownLocale(value)
    return found


def is_key(key: str | None) -> bool:
    """Whether the catalog has ``key``."""
    return key in KEYS


@dataclass(frozen=True, slots=True)
class Message:
    """A message as a parameter value: a key and its parameters, rendered in the locale of the
    message it fills (``{path}: {problem}`` with ``problem`` a parser message)."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


class _Strict(dict[str, Any]):
    """Format mapping that refuses unknown placeholders, so we fall back instead of printing
    ``{field}`` to a user."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


_FORMATTER = string.Formatter()


def _fill(template: str, locale: str, params: Mapping[str, Any]) -> str | None:
    values = _Strict({
        name: translate(value.key, locale, value.params) if isinstance(value, Message) else value
        for name, value in params.items()
    })
    try:
        return _FORMATTER.vformat(template, (), values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return None


def lookup(key: str | None, locale: str, params: Mapping[str, Any] | None = None) -> str | None:
    """The catalog's text for ``key`` in ``locale`` (English if that locale lacks it or its
    template cannot be filled), filled with ``params``; None when there is no such key or no
    template can be filled."""
    english = CATALOGS[DEFAULT_LOCALE].get(key or "")
    if english is None:
        return None
    own = CATALOGS.get(locale, {}).get(key or "")
    if own is not None and own is not english:
        text = _fill(own, locale, params or {})
        if text is not None:
            return text
    return _fill(english, locale, params or {})


def translate(
    key: str | None, locale: str, params: Mapping[str, Any] | None = None, default: str = ""
) -> str:
    """The message for ``key`` in ``locale``; ``default``, else the key itself, when the
    catalog has no such key or the template cannot be filled."""
    text = lookup(key, locale, params)
    if text is None:
        return default or (key or "")
    return text
