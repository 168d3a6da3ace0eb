"""What every source's config has; connectors extend :class:`SourceBase` with their own ``auth``."""

from __future__ import annotations

import math
from typing import Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

__all__ = ["BreakerConfig", "EntityConfig", "FieldConfig", "SourceBase", "StrictModel"]


class StrictModel(BaseModel):
    """Frozen, and unknown keys are an error (they are usually typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldConfig(StrictModel):
    type: str = "string"
    filterable: bool = True
    sortable: bool = True


class EntityConfig(StrictModel):
    """An entity declared in the config, for backends without metadata or to restrict exposure."""

    fields: dict[str, FieldConfig] = Field(default_factory=dict)


class BreakerConfig(StrictModel):
    """The source's circuit breaker: this many failed calls in a row pause calls for a while."""

    failures: int = Field(5, ge=1, description="consecutive failed calls that open the circuit")
    openSeconds: float = Field(30.0, gt=0, description="seconds calls are refused once open")


class SourceBase(StrictModel):
    """Keys shared by every source type. ``type`` is narrowed to a Literal by each connector."""

    type: str
    baseUrl: AnyHttpUrl
    timeout: float = Field(30.0, gt=0, description="seconds for one backend call")
    retries: int = Field(3, ge=0, le=10, description="extra attempts, only safe calls")
    maxConnections: int = Field(100, ge=1, description="pooled connections to this backend")
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    maxInFlight: int = Field(32, ge=1, description="calls in flight to this backend at once")
    maxInFlightPerConsumer: int | None = Field(
        None, ge=1,
        description="of maxInFlight, the slots one consumer may hold at once (beyond: 429); "
        "default: half of maxInFlight, rounded up",
    )
    queueTimeout: float = Field(
        2.0, ge=0, description="seconds a call may wait for a free slot before a 503"
    )
    entities: dict[str, EntityConfig] | None = Field(
        None, description="restrict and describe entities; default: the backend's own metadata"
    )

    @model_validator(mode="after")
    def _share_fits(self) -> Self:
        share = self.maxInFlightPerConsumer
        if share is not None and share > self.maxInFlight:
            raise ValueError(
                f"maxInFlightPerConsumer ({share}) cannot exceed maxInFlight ({self.maxInFlight})"
            )
        return self

    @property
    def base_url(self) -> str:
        return str(self.baseUrl).rstrip("/")

    @property
    def consumer_share(self) -> int:
        """Bulkhead slots one consumer may hold: so one consumer flooding the source leaves
        the rest of its slots to the others."""
        if self.maxInFlightPerConsumer is not None:
            return self.maxInFlightPerConsumer
        return math.ceil(self.maxInFlight / 2)
