"""Data Service source config: ``type: dataservice``, tenant URL, OAuth2 client credentials."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from gateway.config.base import SourceBase, StrictModel

__all__ = ["API_PATH", "DataServiceAuth", "DataServiceSource"]

# Appended to ``baseUrl`` (``https://cloud.uipath.com/<org>/<tenant>``): the current Automation
# Cloud path; the older ``dataservice_/api`` serves the same routes.
API_PATH = "/datafabric_/api"


class DataServiceAuth(StrictModel):
    tokenUrl: AnyHttpUrl = Field(description="UiPath identity token endpoint, e.g. "
                                 "https://cloud.uipath.com/identity_/connect/token")
    clientId: str = Field(min_length=1, description="external application (confidential) id")
    clientSecret: SecretStr
    scope: str = Field(
        "DataService.Data.Read DataService.Data.Write DataService.Schema.Read",
        min_length=1, description="space-separated application scopes",
    )


class DataServiceSource(SourceBase):
    type: Literal["dataservice"]
    auth: DataServiceAuth
    folderKey: str | None = Field(
        None, min_length=1,
        description="folder GUID sent as X-UIPATH-FolderKey, for folder-scoped entities",
    )
    expansionLevel: int | None = Field(
        None, ge=0, le=3,
        description="depth of related records expanded on reads (backend default 2 when unset)",
    )
    maxPerCall: int = Field(
        1000, ge=1, le=1000, description="records asked per query call (the service's max 1000)"
    )

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH
