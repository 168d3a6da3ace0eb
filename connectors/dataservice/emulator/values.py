"""Field values: what a write stores per field type, and SQL Server's orderings for reading."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.dataservice.emulator.schema import CHOICE_SETS, FieldDef

__all__ = ["FieldError", "coerce", "format_datetime", "guid_key", "parse_datetime", "utcnow"]

INT_MIN, INT_MAX = -2_147_483_648, 2_147_483_647


class FieldError(ValueError):
    """A submitted value the field cannot hold; the message is what the API reports."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_datetime(moment: datetime) -> str:
    """The docs' form: 2021-03-04T10:36:28.230Z (UTC, milliseconds)."""
    moment = moment.astimezone(UTC).replace(tzinfo=None)
    # isoformat, not strftime: %Y does not pad years before 1000 ("1-01-01") on Linux.
    return moment.isoformat(timespec="milliseconds") + "Z"


def parse_datetime(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # before 0001-01-01 or after 9999-12-31 in UTC: no datetime2
        return None


# Every read sorts by Id: the keys of the ids seen are remembered (bounded: cleared when full).
_GUID_KEYS: dict[str, tuple[bytes, ...]] = {}
_GUID_KEYS_MAX = 100_000


def guid_key(value: str) -> tuple[bytes, ...]:
    """uniqueidentifier order in SQL Server (SqlGuid.CompareTo): the .NET byte layout, whose
    first three groups are little-endian, compared as bytes 10-15, 8-9, 6-7, 4-5, 0-3."""
    if type(value) is not str:
        return _guid_key(value)
    key = _GUID_KEYS.get(value)
    if key is None:
        if len(_GUID_KEYS) >= _GUID_KEYS_MAX:
            _GUID_KEYS.clear()
        key = _GUID_KEYS[value] = _guid_key(value)
    return key


def _guid_key(value: str) -> tuple[bytes, ...]:
    try:
        raw = uuid.UUID(value).bytes_le
    except ValueError:
        return (b"", b"", b"", b"", value.lower().encode())
    return (raw[10:16], raw[8:10], raw[6:8], raw[4:6], raw[0:4])


def _bad(fdef: FieldDef, expected: str, value: Any) -> FieldError:
    return FieldError(f"The value '{value}' is not valid for field '{fdef.name}': "
                      f"expected {expected}.")


def _integer(fdef: FieldDef, value: Any) -> int:
    if isinstance(value, bool):
        raise _bad(fdef, "an integer", value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise _bad(fdef, "an integer", value) from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise _bad(fdef, "an integer", value)
    if not INT_MIN <= number <= INT_MAX:
        raise FieldError(f"The value '{value}' is out of range for field '{fdef.name}'.")
    return int(number)


def _decimal(fdef: FieldDef, value: Any) -> float | int:
    if isinstance(value, bool):
        raise _bad(fdef, "a number", value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise _bad(fdef, "a number", value) from exc
    if not number.is_finite() or abs(number) > Decimal(10) ** 12:
        raise _bad(fdef, "a number", value)
    rounded = round(number, fdef.precision or 2)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _choice(fdef: FieldDef, value: Any) -> int:
    cs = CHOICE_SETS[fdef.choice_set or ""]
    if isinstance(value, bool) or not isinstance(value, int) or value not in cs.numbers:
        raise FieldError(f"The value '{value}' is not a valid option of choice set "
                         f"'{cs.name}' for field '{fdef.name}'.")
    return value


def coerce(fdef: FieldDef, value: Any) -> Any:
    """The stored form of `value` for a writable field; FieldError when it cannot be stored.

    RELATIONSHIP targets are checked by the store (it knows the records)."""
    if value is None:
        if fdef.required:
            raise FieldError(f"The field '{fdef.name}' is required.")
        return None
    kind = fdef.type
    if kind in ("STRING", "MULTILINE_MAX"):
        if not isinstance(value, str):
            raise _bad(fdef, "a text value", value)
        if fdef.length is not None and len(value) > fdef.length:
            raise FieldError(f"The value of field '{fdef.name}' exceeds the maximum length of "
                             f"{fdef.length} characters.")
        if fdef.required and not value.strip():
            raise FieldError(f"The field '{fdef.name}' is required.")
        return value
    if kind == "INTEGER":
        return _integer(fdef, value)
    if kind == "DECIMAL":
        return _decimal(fdef, value)
    if kind == "BOOLEAN":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _bad(fdef, "true or false", value)
    if kind == "DATE":
        text = value.strip() if isinstance(value, str) else ""
        if len(text) == 10 or (len(text) > 10 and text[10] in "T "):
            try:
                return date.fromisoformat(text[:10]).isoformat()
            except ValueError:
                pass
        raise _bad(fdef, "a date (yyyy-MM-dd)", value)
    if kind == "DATETIME":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _bad(fdef, "an ISO 8601 date-time", value)
        return format_datetime(parsed)
    if kind == "CHOICE_SET_SINGLE":
        return _choice(fdef, value)
    if kind == "CHOICE_SET_MULTIPLE":
        if not isinstance(value, list):
            raise _bad(fdef, "a list of choice set options", value)
        return sorted({_choice(fdef, item) for item in value})
    if kind in ("RELATIONSHIP", "UUID"):
        if isinstance(value, dict) and kind == "RELATIONSHIP":
            value = value.get("Id")  # an expanded related record sent back as is
        try:
            return str(uuid.UUID(str(value)))
        except ValueError as exc:
            raise _bad(fdef, "a record Id (GUID)", value) from exc
    raise FieldError(f"The field '{fdef.name}' cannot be written.")

