"""Data Service tokens: OAuth2 client-credentials grant at UiPath identity (gateway.kit.oauth2)."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.dataservice.config import DataServiceSource
from gateway.kit.oauth2 import ClientCredentials
from gateway.upstream.client import Upstream

__all__ = ["auth_header", "token_source"]


def auth_header(access: str) -> Mapping[str, str]:
    return {"Authorization": f"Bearer {access}"}


def token_source(upstream: Upstream, config: DataServiceSource) -> ClientCredentials:
    """Identity wants a form body (JSON gets an HTML page with status 200)."""
    auth = config.auth
    return ClientCredentials(upstream, str(auth.tokenUrl), issuer="UiPath identity", form={
        "client_id": auth.clientId, "client_secret": auth.clientSecret.get_secret_value(),
        "scope": auth.scope,
    })
