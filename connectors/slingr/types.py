"""Slingr field types: the gateway type each is read as, and the operators Slingr has for it."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.connector import FieldType

__all__ = ["KINDS", "UNKNOWN", "Kind", "kind_of"]

# The type of a field read off a sample, not configured: a string might be a choice.
UNKNOWN = "unknown"

_ALL = frozenset({"equals", "notEquals", "empty", "notEmpty"})
_CMP = frozenset({"greater", "greaterOrEquals", "less", "lessOrEquals", "between"})


@dataclass(frozen=True, slots=True)
class Kind:
    """How one Slingr type is shown and queried."""

    gateway: FieldType  # the type the gateway compares values as
    functions: frozenset[str]  # Slingr operator functions the type accepts [SD-TYPES]
    scalar: bool = True  # False: an object value (relationship, file, nested group)


# Slingr's empty() also matches "", which the gateway counts as a value: null tests on text are
# finished in the gateway.
_TEXT = Kind("string", frozenset({"equals", "notEquals", "like"}) | _CMP)
_INT = Kind("integer", _ALL | _CMP)
_NUM = Kind("number", _ALL | _CMP)
_DATE = Kind("date", _ALL | _CMP)
# date-time travels as epoch milliseconds: the gateway compares it as that integer.
_MILLIS = Kind("integer", _ALL | _CMP)
_BOOL = Kind("boolean", frozenset({"equals", "notEquals"}))
_CHOICE = Kind("string", _ALL)
# A string whose type was inferred, not configured: it may be text (see _TEXT) or a choice.
_UNKNOWN = Kind("string", frozenset({"equals", "notEquals"}))
_REF = Kind("json", _ALL | {"like"}, scalar=False)
_FILE = Kind("file", _ALL | {"like"}, scalar=False)
_GROUP = Kind("json", frozenset({"equals", "empty", "notEmpty"}), scalar=False)

KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        ("text", "long_text", "html", "email", "url", "phone", "qr", "rank", "masked_text",
         "label", "string"), _TEXT),
    **dict.fromkeys(("integer", "auto_increment", "version"), _INT),
    **dict.fromkeys(("decimal", "money", "percentage", "big_number", "number"), _NUM),
    **dict.fromkeys(("date",), _DATE),
    **dict.fromkeys(
        ("date_time", "date_time_no_timezone", "date_record_created", "date_record_modified",
         "datetime"), _MILLIS),
    "boolean": _BOOL,
    **dict.fromkeys(("choice", "color", "id"), _CHOICE),
    **dict.fromkeys(("relationship", "dynamic_choice", "group", "json"), _REF),
    "file": _FILE,
    "nested_fields": _GROUP,
}


def kind_of(slingr_type: str) -> Kind:
    """An unknown type gets only equality, which every type has."""
    return KINDS.get(slingr_type, _UNKNOWN)
