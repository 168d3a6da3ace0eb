"""Secret redaction: by key name and by value, with every credential and token registered here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["REDACTED", "Redactor", "is_secret_key"]

REDACTED = "[redacted]"
MIN_SECRET = 6
SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|authorization|api[-_]?key|cookie|credential)", re.IGNORECASE
)
# Key names come from code (log call sites, config fields), so this stays small; the cap only
# guards against keys made from data.
_KEY_CACHE_MAX = 4096
_secret_keys: dict[str, bool] = {}


def is_secret_key(key: str) -> bool:
    """Whether a key's name says its value is a secret (memoized: one regex per distinct key)."""
    known = _secret_keys.get(key)
    if known is None:
        if len(_secret_keys) >= _KEY_CACHE_MAX:
            _secret_keys.clear()
        known = _secret_keys[key] = SECRET_KEY.search(key) is not None
    return known


class Redactor:
    """Knows the secret values in play (passwords, API keys, tokens) and scrubs them from logs.

    One per app, passed down (no module-global list). ``add`` is called for each credential read
    from the config and each token obtained from a backend.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._needles: tuple[bytes, ...] | None = None

    def add(self, value: str | None) -> None:
        # Values shorter than MIN_SECRET are left to the by-key rule: scrubbing a word such as
        # "admin" out of every message ("[redacted]istrator") hides more than it protects.
        if value and len(value) >= MIN_SECRET and value not in self._values:
            self._values.add(value)
            self._pattern = None
            self._needles = None

    def scrub_text(self, text: str) -> str:
        if not self._values:
            return text
        if self._pattern is None:
            alts = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alts))
        return self._pattern.sub(REDACTED, text)

    def found_in(self, rendered: bytes) -> bool:
        """Whether any secret occurs in a rendered JSON line, as itself or JSON-escaped.

        A substring test per secret, far cheaper than scrubbing every value of a line that (as
        nearly every line) holds none; a line that does is then scrubbed value by value.
        """
        needles = self._needles
        if needles is None:
            forms: set[bytes] = set()
            for value in self._values:
                forms.add(value.encode("utf-8", "surrogatepass"))
                try:
                    forms.add(orjson.dumps(value)[1:-1])  # as it appears inside a JSON string
                except orjson.JSONEncodeError:
                    pass  # not encodable (a lone surrogate): no JSON line can hold it either
            needles = self._needles = tuple(forms)
        return any(n in rendered for n in needles)

    def scrub(self, value: Any, key: str | None = None) -> Any:
        """Scrub one value; a key that names a secret hides the whole value."""
        if key is not None and is_secret_key(key) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, Mapping):
            return {k: self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value
