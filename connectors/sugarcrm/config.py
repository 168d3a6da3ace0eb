"""SugarCRM source config: ``type: sugarcrm`` and the OAuth2 password-grant credentials."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from gateway.config.base import SourceBase, StrictModel

__all__ = ["SugarAuth", "SugarSource"]


class SugarAuth(StrictModel):
    username: str = Field(min_length=1)
    password: SecretStr
    clientId: str = "sugar"
    clientSecret: SecretStr = SecretStr("")
    platform: str = Field(
        "base",
        description="Sugar keeps one session per user and platform: give the gateway its own "
        "registered platform so it does not log out people using the web UI",
    )


class SugarSource(SourceBase):
    type: Literal["sugarcrm"]
    auth: SugarAuth
    maxPerCall: int = Field(
        200, ge=1, le=10000, description="records asked per list call (Sugar's max_num)"
    )
