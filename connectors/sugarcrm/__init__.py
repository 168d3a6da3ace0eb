"""SugarCRM v10 connector: its ConnectorType for the registry."""

from __future__ import annotations

from connectors.sugarcrm.config import SugarSource
from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.query import NOTES
from gateway.registry import ConnectorType

__all__ = ["CONNECTOR_TYPE", "SugarConnector"]

CONNECTOR_TYPE = ConnectorType(
    name="sugarcrm",
    config_model=SugarSource,
    factory=SugarConnector,
    notes={
        **NOTES,
        "files": "raw PUT /<Module>/<id>/file/<field>?filename=, streamed both ways; Sugar "
        "detects the stored type itself; image fields keep no file name",
    },
    emulator="connectors.sugarcrm.emulator:create_app",
    emulator_banner="SugarCRM v10 under /rest/v10, user admin / admin, client id sugar",
)
