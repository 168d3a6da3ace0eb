"""Collation: how a backend compares and orders values, shared by its pushdown and the gateway."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Collation"]


@dataclass(frozen=True, slots=True)
class Collation:
    """How a backend compares and orders values: one model that its pushed filters and sorts
    follow and that ``gateway/query/evaluate.py`` applies to whatever the gateway finishes, so
    pushed and finished answers agree by construction (the README's connector tables show it).

    * Text: ``case_insensitive`` compares Unicode casefolds (``ß`` = ``ss``, the three Greek
      sigmas alike, dotted capital I = ``i`` + combining dot), else exact code points;
      ``pad_space`` (SQL's PAD SPACE, MySQL and SQL Server) ignores trailing U+0020 spaces in
      ``==``, ``<``, ``>``, ``in`` and ordering, but not in contains/startsWith/endsWith (LIKE
      compares every character). Text orders by code point of that form; accents are never
      folded (``é`` != ``e``; ``unicode`` says where a real backend may differ).
    * The empty string is a value, not null: it sorts before every other string (and, with
      ``pad_space``, equals a string of spaces).
    * Nulls sort before every value in ascending order when ``nulls_first``, else after;
      descending is the exact reverse of ascending.
    * Booleans: false before true. Numbers by value; dates and date-times by instant.
    * Ties break by ``id`` ascending, in ``id_key`` order when the backend has its own (SQL
      Server orders GUIDs by their last bytes first), else plain string order.
    """

    case_insensitive: bool = True
    pad_space: bool = False
    nulls_first: bool = True
    id_key: Callable[[Any], Any] | None = None
    id_order: str = "string order"  # the README's words for ``id_key``
    unicode: str = "accents kept, code point order"  # the README's words for text order

    def text_key(self, value: str) -> str:
        """``value`` as ``==`` and ordering see it under this collation."""
        if self.pad_space:
            value = value.rstrip(" ")
        return value.casefold() if self.case_insensitive else value

    def like_key(self, value: str) -> str:
        """``value`` as contains/startsWith/endsWith see it (no padding)."""
        return value.casefold() if self.case_insensitive else value

    def describe(self) -> str:
        """One README cell: the rules above as they apply to this backend."""
        case = "case-insensitive (Unicode casefold)" if self.case_insensitive else (
            "case-sensitive (code points)")
        pad = ("trailing spaces ignored by ==, <, >, in and sorting (PAD SPACE), kept by "
               "contains/startsWith/endsWith" if self.pad_space else "trailing spaces count")
        nulls = "first" if self.nulls_first else "last"
        return (f"{case}; {pad}; {self.unicode}; \"\" is a value sorting before other text; "
                f"nulls {nulls} ascending, DESC the exact reverse; false < true; ties by id "
                f"ascending in {self.id_order}")
