"""Slingr source config: ``type: slingr``, login credentials, and optional typed entities."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from gateway.config.base import EntityConfig, FieldConfig, SourceBase, StrictModel

__all__ = ["SlingrAuth", "SlingrEntityConfig", "SlingrFieldConfig", "SlingrSource"]


class SlingrAuth(StrictModel):
    email: str = Field(min_length=1)
    password: SecretStr
    emailImpersonatedUser: str | None = Field(
        None, description="log in as this user (the configured one needs impersonation rights)"
    )


class SlingrFieldConfig(FieldConfig):
    """A field by its Slingr type (``text``, ``integer``, ``date_time``, ``choice``, …), which
    decides the operators pushed down; gateway type names (``string``, ``number``) work too."""

    multiple: bool = Field(False, description="multi-valued field, or a field inside one")
    options: list[str] | None = Field(
        None,
        description="a choice field's option names: Slingr refuses any other value in a filter "
        "(400), so only these are pushed and the gateway answers the rest itself; without "
        "them no choice value is pushed",
    )


class SlingrEntityConfig(EntityConfig):
    fields: dict[str, SlingrFieldConfig] = Field(default_factory=dict)  # type: ignore[assignment]


class SlingrSource(SourceBase):
    type: Literal["slingr"]
    auth: SlingrAuth
    # dict is invariant, so mypy sees a narrower override; pydantic validates the Slingr shape.
    entities: dict[str, SlingrEntityConfig] | None = Field(  # type: ignore[assignment]
        None,
        description="restrict and describe entities with Slingr field types; default: "
        "types inferred from a sample of records (only operators every type has are pushed)",
    )
    maxPerCall: int = Field(
        1000, ge=1, le=1000, description="records asked per list call (Slingr's _size, max 1000)"
    )
