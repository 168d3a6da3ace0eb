"""MySQL-flavoured value semantics (what values compare as) and PHP array helpers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sugarcrm.emulator.schema import NUMERIC_TYPES

__all__ = [
    "db_key",
    "like_matches",
    "like_text",
    "parse_datetime",
    "php_array",
    "php_count",
    "php_index",
    "php_int",
    "php_items",
    "php_str",
    "php_values",
    "sort_key",
]

_LEADING_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- PHP arrays: Sugar decodes JSON objects and query brackets alike into PHP arrays -------------

def php_array(value: Any) -> bool:
    return isinstance(value, list | dict)


def php_items(value: Any) -> list[tuple[Any, Any]]:
    return list(value.items()) if isinstance(value, dict) else list(enumerate(value))


def php_values(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value)


def php_count(value: Any) -> int:
    return len(value)


def php_index(value: Any, i: int) -> Any:
    if isinstance(value, dict):
        return value.get(i, value.get(str(i)))
    return value[i] if i < len(value) else None


def php_int(value: Any) -> int:
    """PHP's (int) cast: leading digits of a string, 0 when there are none."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        match = _LEADING_NUMBER.match(value)
        return int(Decimal(match.group(0))) if match else 0
    return 1 if value else 0


def php_str(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return "Array"
    return str(value)


# --- typed comparison keys --------------------------------------------------------------------

def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _LEADING_NUMBER.match(php_str(value))
    if not match:
        return Decimal(0)  # MySQL casts a non-numeric string to 0
    try:
        return Decimal(match.group(0).strip())
    except InvalidOperation:
        return Decimal(0)


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 or DB format to naive UTC; None when unparseable."""
    text = php_str(value).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # before 0001-01-01 or after 9999-12-31 in UTC: no DATETIME
            return None
    return parsed.replace(microsecond=0)


def _empty(ftype: str) -> Any:
    """DBManager::emptyValue: what null/false/'' bind as, per column class."""
    if ftype in NUMERIC_TYPES or ftype == "bool":
        return 0
    if ftype == "date":
        return "1970-01-01"
    if ftype == "datetime":
        return "1970-01-01 00:00:00"
    return ""


# Stored values recur on every list, count and filter call (every row's date_modified and id
# on each default ordering): their keys are remembered by column type, value type and value.
# The keys are immutable and depend on nothing else, so a row changed in any way simply looks
# up its new value. Bounded: cleared when full.
_KEYS: dict[tuple[str, type, Any], Any] = {}
_KEYS_MAX = 100_000


def db_key(ftype: str, value: Any, *, bound: bool = False) -> Any:
    """The comparable form of a value in a column of `ftype`; None is SQL NULL.

    `bound` marks a value coming from a filter: Sugar binds null/false/'' as the type's empty
    value rather than NULL.
    """
    if bound and (value is None or value is False or value == ""):
        value = _empty(ftype)
    if value is None:
        return None
    try:
        memo = (ftype, type(value), value)
        return _KEYS[memo]
    except KeyError:
        key = _KEYS[memo] = _db_key(ftype, value)
        if len(_KEYS) > _KEYS_MAX:
            _KEYS.clear()
        return key
    except TypeError:  # an unhashable value (a list put into a row by hand)
        return _db_key(ftype, value)


def _db_key(ftype: str, value: Any) -> Any:
    if ftype in NUMERIC_TYPES:
        return _number(value)
    if ftype == "bool":
        if isinstance(value, str) and value.strip().lower() in ("true", "on", "yes"):
            return Decimal(1)
        return _number(value)
    if ftype == "date":
        text = php_str(value).strip()[:10]
        if not _DATE.fullmatch(text):
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if ftype == "datetime":
        return parse_datetime(value)
    # utf8_general_ci: case-insensitive, trailing spaces ignored by '=' and '<'.
    return php_str(value).rstrip(" ").casefold()


def sort_key(ftype: str, value: Any) -> tuple[Any, ...]:
    key = db_key(ftype, value)
    return (0,) if key is None else (1, key)  # NULL first ascending, as in MySQL


def like_text(ftype: str, value: Any) -> str | None:
    """The text MySQL matches a LIKE pattern against."""
    if value is None:
        return None
    if ftype == "datetime":
        parsed = parse_datetime(value)
        return parsed.isoformat(sep=" ", timespec="seconds") if parsed else php_str(value)
    if ftype == "bool":
        return "1" if value else "0"
    return php_str(value)


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    chars = iter(pattern.casefold())
    for ch in chars:
        if ch == "\\":  # MySQL's default LIKE escape
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def like_matches(text: str, pattern: str) -> bool:
    return _like_regex(pattern).fullmatch(text.casefold()) is not None
