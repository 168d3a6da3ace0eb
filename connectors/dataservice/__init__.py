"""UiPath Data Service connector: its ConnectorType for the registry."""

from __future__ import annotations

from connectors.dataservice.config import DataServiceSource
from connectors.dataservice.connector import DataServiceConnector
from connectors.dataservice.query import NOTES
from gateway.registry import ConnectorType

__all__ = ["CONNECTOR_TYPE", "DataServiceConnector"]

CONNECTOR_TYPE = ConnectorType(
    name="dataservice",
    config_model=DataServiceSource,
    factory=DataServiceConnector,
    notes=NOTES,
    emulator="connectors.dataservice.emulator:create_app",
    emulator_banner="UiPath Data Service: token /identity_/connect/token, client recordgate / "
    "recordgate-secret, records under /{org}/{tenant}/datafabric_/api",
)
