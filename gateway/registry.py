"""Connector types by name: ``type: sugarcrm`` → its config model and its connector factory.

Built-in connectors are named here as import strings and loaded lazily; third-party ones register
through the ``recordgate.connectors`` entry-point group (``name = "package.module:OBJECT"``, the
object a :class:`ConnectorType` whose ``name`` equals the entry point's). ``gateway/`` never
imports a connector module by name elsewhere. A third-party type that cannot be loaded, or that
takes a name already used, is left out and reported by :func:`installed` (``gateway
connectors``), so one broken plugin never stops the gateway from serving the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points, version
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import aiohttp

    from gateway.config.base import SourceBase
    from gateway.connector import Connector
    from gateway.upstream.context import UpstreamContext

__all__ = ["ENTRY_POINT_GROUP", "ConnectorType", "Installed", "connector_types", "get_type",
           "installed"]

ENTRY_POINT_GROUP = "recordgate.connectors"

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


@dataclass(frozen=True)
class Installed:
    """One connector type as ``gateway connectors`` lists it: where it comes from, and
    ``problem`` when it could not be used (then it is not in :func:`connector_types`)."""

    name: str
    package: str  # the distribution that provides it
    version: str
    origin: Literal["built-in", "entry point"]
    ref: str  # "module:OBJECT"
    problem: str | None = None


def _load(ref: str) -> ConnectorType:
    module, _, attr = ref.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    if not isinstance(obj, ConnectorType):
        raise TypeError(f"{ref} is a {type(obj).__name__}, not a gateway.registry.ConnectorType")
    return obj


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:  # an entry point from a path without metadata: nothing to name
        return "?", "?"
    return dist.name, dist.version


@cache
def _scan() -> tuple[Mapping[str, ConnectorType], tuple[Installed, ...]]:
    own = version("recordgate")
    found: dict[str, ConnectorType] = {}
    listing: list[Installed] = []
    for name, ref in BUILTIN.items():
        found[name] = _load(ref)  # a broken built-in is a bug of ours: fail loudly
        listing.append(Installed(name, "recordgate", own, "built-in", ref))
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        package, ver = _distribution(ep)
        problem: str | None = None
        if ep.name in found:
            problem = f"name taken by {next(i.package for i in listing if i.name == ep.name)}"
        else:
            try:
                kind = _load(ep.value)
            except Exception as exc:  # a third-party import error must not stop the gateway
                problem = f"cannot be loaded: {type(exc).__name__}: {exc}"
            else:
                if kind.name != ep.name:
                    problem = f"entry point {ep.name!r} names a ConnectorType {kind.name!r}"
                else:
                    found[ep.name] = kind
        listing.append(Installed(ep.name, package, ver, "entry point", ep.value, problem))
    return MappingProxyType(found), tuple(listing)


def connector_types() -> Mapping[str, ConnectorType]:
    """Every usable connector type, built-ins first; read-only."""
    return _scan()[0]


def installed() -> tuple[Installed, ...]:
    """Every connector type found, usable or not, with its package and version."""
    return _scan()[1]


def get_type(name: str) -> ConnectorType:
    types = connector_types()
    if name not in types:
        raise KeyError(f"unknown source type {name!r}; installed: {', '.join(sorted(types))}")
    return types[name]
