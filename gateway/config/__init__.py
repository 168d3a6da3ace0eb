"""The gateway's configuration: strict models of the YAML and the loader that fills them."""

from gateway.config.base import SourceBase, StrictModel
from gateway.config.load import ConfigError, load_config, load_config_text
from gateway.config.model import (
    ALL_ORGS,
    Consumer,
    GatewayConfig,
    OrgConfig,
    OrgSource,
    ServerConfig,
    SourceConfig,
)

__all__ = [
    "ALL_ORGS",
    "ConfigError",
    "Consumer",
    "GatewayConfig",
    "OrgConfig",
    "OrgSource",
    "ServerConfig",
    "SourceBase",
    "SourceConfig",
    "StrictModel",
    "load_config",
    "load_config_text",
]
