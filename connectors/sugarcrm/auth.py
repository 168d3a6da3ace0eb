"""Sugar OAuth2 tokens: password grant, rotating refresh grant (gateway.kit.oauth2), logout."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.sugarcrm.config import SugarSource
from gateway.kit.oauth2 import PasswordGrant
from gateway.upstream.client import Upstream
from gateway.upstream.tokens import Token

__all__ = ["SugarTokenSource", "auth_header"]


def auth_header(access: str) -> Mapping[str, str]:
    return {"OAuth-Token": access}


class SugarTokenSource(PasswordGrant):
    """``POST /oauth2/token`` for one configured Sugar user and platform."""

    def __init__(self, upstream: Upstream, config: SugarSource) -> None:
        auth = config.auth
        super().__init__(
            upstream, f"{config.base_url}/oauth2/token", issuer="SugarCRM",
            username=auth.username, password=auth.password.get_secret_value(),
            client={"client_id": auth.clientId,
                    "client_secret": auth.clientSecret.get_secret_value(),
                    "platform": auth.platform},
        )
        self._logout_url = f"{config.base_url}/oauth2/logout"

    async def logout(self, token: Token) -> None:
        await self._upstream.request(
            "logout", "POST", self._logout_url,
            json={"refresh_token": token.refresh} if token.refresh else {},
            headers=auth_header(token.access), safe=False, auth=False,
        )
