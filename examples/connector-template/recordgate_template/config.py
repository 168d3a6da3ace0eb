"""The template source's YAML: ``type: template``, the backend's login, the page size it takes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from gateway.config.base import SourceBase, StrictModel

__all__ = ["TemplateAuth", "TemplateSource"]


class TemplateAuth(StrictModel):
    username: str = Field(min_length=1)
    password: SecretStr


class TemplateSource(SourceBase):
    type: Literal["template"]
    auth: TemplateAuth
    maxPerCall: int = Field(50, ge=1, le=50, description="records asked per list call (limit)")
