"""Connector types by name: ``type: sugarcrm`` → its config model and its connector factory.

Built-in connectors are named here as import strings and loaded lazily; third-party ones register
through the ``recordgate.connectors`` entry-point group with an object shaped like
:class:`ConnectorType`. ``gateway/`` never imports a connector module by name elsewhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from gateway.config.base import SourceBase
    from gateway.connector import Connector
    from gateway.upstream.context import UpstreamContext

__all__ = ["ConnectorType", "connector_types", "get_type"]

BUILTIN = {
    "sugarcrm": "connectors.sugarcrm:CONNECTOR_TYPE",
    "slingr": "connectors.slingr:CONNECTOR_TYPE",
    "dataservice": "connectors.dataservice:CONNECTOR_TYPE",
}


@dataclass(frozen=True)
class ConnectorType:
    """How to configure and build one kind of connector."""

    name: str
    config_model: type[SourceBase]
    # (source name, validated config, the source's pooled session, upstream context) -> Connector
    factory: Callable[[str, Any, aiohttp.ClientSession, UpstreamContext], Connector]
    # Rules shown in the README's capability table, one line per operator or feature.
    notes: Mapping[str, str] = field(default_factory=dict)
    # Import string of a zero-argument-safe factory ``(user, password) -> aiohttp web.Application``
    # for ``gateway emulator NAME`` and ``gateway demo``; the emulator shares no code with gateway/.
    emulator: str | None = None
    # What ``gateway emulator NAME`` prints as its defaults (base path, credentials).
    emulator_banner: str = ""

    def load_emulator(self) -> Callable[..., Any]:
        if self.emulator is None:
            raise LookupError(f"source type {self.name!r} has no emulator")
        module, _, attr = self.emulator.partition(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def _load(ref: str) -> ConnectorType:
    module, _, attr = ref.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    if not isinstance(obj, ConnectorType):
        raise TypeError(f"{ref} is not a ConnectorType")
    return obj


@cache
def connector_types() -> Mapping[str, ConnectorType]:
    """Every known connector type, built-ins first; read-only."""
    found = {name: _load(ref) for name, ref in BUILTIN.items()}
    for ep in entry_points(group="recordgate.connectors"):
        if ep.name not in found:
            found[ep.name] = _load(ep.value)
    return MappingProxyType(found)


def get_type(name: str) -> ConnectorType:
    types = connector_types()
    if name not in types:
        raise KeyError(f"unknown source type {name!r}; known: {', '.join(sorted(types))}")
    return types[name]
