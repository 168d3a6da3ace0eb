"""SugarCRM v10 connector."""

from __future__ import annotations

from typing import Any

from connectors.sugarcrm.config import SugarSource
from gateway.registry import ConnectorType

__all__ = ["CONNECTOR_TYPE"]


def _factory(*args: Any) -> Any:  # replaced by the connector module (work in progress)
    raise NotImplementedError


CONNECTOR_TYPE = ConnectorType(
    name="sugarcrm",
    config_model=SugarSource,
    factory=_factory,
    emulator="connectors.sugarcrm.emulator:create_app",
    emulator_banner="SugarCRM v10 under /rest/v10, user admin / admin, client id sugar",
)
