"""A recordgate connector for the template task backend: its ConnectorType (the entry point)."""

from __future__ import annotations

from gateway.registry import ConnectorType
from recordgate_template.config import TemplateSource
from recordgate_template.connector import TemplateConnector

__all__ = ["CONNECTOR_TYPE", "TemplateConnector"]

CONNECTOR_TYPE = ConnectorType(
    name="template",
    config_model=TemplateSource,
    factory=TemplateConnector,
    notes={
        "==": "pushed for text fields (exact, case-sensitive); everything else the gateway "
        "finishes",
        "files": "none (422 unsupported)",
    },
    emulator="recordgate_template.emulator:create_app",
    emulator_banner="template task backend: login admin / admin, entity tasks",
)
