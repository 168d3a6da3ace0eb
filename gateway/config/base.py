"""What every source's config has; connectors extend :class:`SourceBase` with their own ``auth``."""

from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

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
    queueTimeout: float = Field(
        2.0, ge=0, description="seconds a call may wait for a free slot before a 503"
    )
    entities: dict[str, EntityConfig] | None = Field(
        None, description="restrict and describe entities; default: the backend's own metadata"
    )

    @property
    def base_url(self) -> str:
        return str(self.baseUrl).rstrip("/")
