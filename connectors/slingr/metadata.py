"""Slingr entities → the gateway's EntityInfo, from the config's typed fields or from a sample.

The runtime API publishes no field metadata. A configured entity names each field's Slingr type,
which decides the operators pushed. Without one, types are read off a sample of records and
only what every type supports is trusted for strings (a ``choice`` and a ``text`` look alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.slingr.config import SlingrEntityConfig
from connectors.slingr.types import UNKNOWN, kind_of
from gateway.connector import EntityInfo, FieldInfo

__all__ = ["SYSTEM_FIELDS", "entity_from_config", "entity_from_sample", "make_field"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REF_KEYS = frozenset({"id", "label", "name"})
# An inferred string might be a choice (connectors/slingr/types.py UNKNOWN): none of its values
# are pushed, since Slingr refuses a value that is not one of a choice's names.


def make_field(name: str, slingr_type: str, *, multiple: bool = False,
               filterable: bool = True, sortable: bool = True,
               options: Iterable[str] | None = None) -> FieldInfo:
    kind = kind_of(slingr_type)
    # Slingr cannot sort on multi-valued fields or inside multi-valued groups, nor on object
    # values; a path inside a single nested group (contactInformation.email) it sorts [SD-QL].
    can_sort = sortable and not multiple and kind.scalar
    return FieldInfo(
        name=name, type=kind.gateway, filterable=filterable, sortable=can_sort,
        multivalued=multiple, kind=slingr_type,
        # Slingr embeds {id, label} of the related record and its runtime API does not say
        # which entity that is: "*", shown whole only to consumers allowed every entity.
        related="*" if slingr_type == "relationship" and "." not in name else None,
        options=frozenset(options) if options is not None else None,
    )


SYSTEM_FIELDS = {
    "id": make_field("id", "id"),
    "label": make_field("label", "label"),
    "version": make_field("version", "version"),
}


def entity_from_config(name: str, config: SlingrEntityConfig) -> EntityInfo:
    fields = dict(SYSTEM_FIELDS)
    for fname, fc in config.fields.items():
        fields[fname] = make_field(fname, fc.type, multiple=fc.multiple,
                                   filterable=fc.filterable, sortable=fc.sortable,
                                   options=fc.options)
    return EntityInfo(name=name, fields=fields, label=name)


def _scalar_type(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "decimal"
    if all(isinstance(v, str) and _DATE.match(v) for v in values):
        return "date"
    return UNKNOWN


def _infer(prefix: str, values: list[Any], multiple: bool, out: dict[str, FieldInfo]) -> None:
    present = [v for v in values if v is not None]
    if not present:
        out[prefix] = make_field(prefix, UNKNOWN, multiple=multiple)
        return
    if all(isinstance(v, list) for v in present):
        _infer(prefix, [x for v in present for x in v], True, out)
        return
    if all(isinstance(v, dict) for v in present):
        keys = {k for v in present for k in v}
        if keys <= _REF_KEYS:
            out[prefix] = make_field(prefix, "relationship", multiple=multiple)
            for sub, sub_type in (("id", "id"), ("label", "text")):
                out[f"{prefix}.{sub}"] = make_field(f"{prefix}.{sub}", sub_type,
                                                    multiple=multiple)
            return
        out[prefix] = make_field(prefix, "nested_fields", multiple=multiple)
        for key in sorted(keys - {"id", "label"}):
            _infer(f"{prefix}.{key}", [v.get(key) for v in present], multiple, out)
        return
    out[prefix] = make_field(prefix, _scalar_type(present), multiple=multiple)


def entity_from_sample(name: str, records: Iterable[Mapping[str, Any]]) -> EntityInfo:
    """Fields seen in ``records``, typed as well as their values allow."""
    columns: dict[str, list[Any]] = {}
    for record in records:
        for key, value in record.items():
            columns.setdefault(key, []).append(value)
    fields: dict[str, FieldInfo] = {}
    for key in sorted(columns.keys() - SYSTEM_FIELDS.keys()):
        _infer(key, columns[key], False, fields)
    return EntityInfo(name=name, fields={**SYSTEM_FIELDS, **fields}, label=name)
