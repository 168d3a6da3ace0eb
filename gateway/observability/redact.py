"""Secret redaction: by key name and by value, with every credential and token registered here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[redacted]"
SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|authorization|api[-_]?key|cookie|credential)", re.IGNORECASE
)


class Redactor:
    """Knows the secret values in play (passwords, API keys, tokens) and scrubs them from logs.

    One per app, passed down (no module-global list). ``add`` is called for each credential read
    from the config and each token obtained from a backend.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        if value and len(value) >= 4 and value not in self._values:
            self._values.add(value)
            self._pattern = None

    def scrub_text(self, text: str) -> str:
        if not self._values:
            return text
        if self._pattern is None:
            alts = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alts))
        return self._pattern.sub(REDACTED, text)

    def scrub(self, value: Any, key: str | None = None) -> Any:
        """Scrub one value; a key that names a secret hides the whole value."""
        if key is not None and SECRET_KEY.search(key) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, Mapping):
            return {k: self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value
