"""Slingr runtime API connector: its ConnectorType for the registry."""

from __future__ import annotations

from connectors.slingr.config import SlingrSource
from connectors.slingr.connector import SlingrConnector
from connectors.slingr.query import NOTES
from gateway.registry import ConnectorType

__all__ = ["CONNECTOR_TYPE", "SlingrConnector"]

CONNECTOR_TYPE = ConnectorType(
    name="slingr",
    config_model=SlingrSource,
    factory=SlingrConnector,
    notes=NOTES,
    emulator="connectors.slingr.emulator:create_app",
    emulator_banner="Slingr runtime API under /dev/runtime/api, user admin@example.com / admin",
)
