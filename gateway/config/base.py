"""What every source's config has; connectors extend :class:`SourceBase` with their own ``auth``."""

from __future__ import annotations

import math
import re
from typing import Annotated, Self

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "BreakerConfig",
    "CacheConfig",
    "EntityConfig",
    "FieldConfig",
    "SourceBase",
    "StrictModel",
    "byte_size",
    "duration",
]


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


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "k": 1000, "m": 1000**2, "g": 1000**3,
               "ki": 1024, "mi": 1024**2, "gi": 1024**3}


def duration(value: object) -> object:
    """Seconds, from a number or a string with a unit: ``"500ms"``, ``"5s"``, ``"2m"``,
    ``"1h"`` (no unit: seconds). Anything else is left for the field's type to refuse, except
    strings and booleans, which get a reason naming the accepted forms."""
    if isinstance(value, bool):
        raise ValueError("must be a duration: seconds as a number, or a string such as "
                         '"500ms", "5s", "2m"')
    if not isinstance(value, str):
        return value
    found = _DURATION.match(value)
    if found is None:
        raise ValueError(f"{value!r} is not a duration: give seconds as a number, or a number "
                         'with ms, s, m or h ("500ms", "5s", "2m")')
    return float(found[1]) * _DURATION_UNITS[(found[2] or "s").lower()]


def byte_size(value: object) -> object:
    """Bytes, from a number or a string with a unit: ``"512KiB"``, ``"16MiB"``, ``"1GiB"``
    (powers of 1024), ``"500KB"``, ``"16MB"`` (powers of 1000), ``"100B"``."""
    if isinstance(value, bool):
        raise ValueError('must be a size: bytes as a number, or a string such as "16MiB"')
    if not isinstance(value, str):
        return value
    found = _SIZE.match(value)
    if found is None:
        raise ValueError(f"{value!r} is not a size: give bytes as a number, or a number with "
                         'B, KiB, MiB, GiB (1024) or KB, MB, GB (1000) ("512KiB", "16MiB")')
    unit = (found[2] or "b").lower().removesuffix("b") or "b"
    size = float(found[1]) * _SIZE_UNITS[unit]
    if size != int(size):
        raise ValueError(f"{value!r} is not a whole number of bytes")
    return int(size)


Seconds = Annotated[float, BeforeValidator(duration)]
Bytes = Annotated[int, BeforeValidator(byte_size)]


class CacheConfig(StrictModel):
    """The source's read cache (``gateway/cache.py``): answers to queries and single-record
    reads kept ``ttl``, within ``maxBytes``; every write through the gateway drops them."""

    ttl: Seconds = Field(
        5.0, ge=0.001, le=86_400,
        description='how long an answer is reused: seconds, or "500ms", "5s", "2m"; writes '
        "made in the backend directly are seen after this",
    )
    maxBytes: Bytes = Field(
        16 * 1024 * 1024, ge=1024,
        description='bytes of answers kept at most (least recently used dropped first): a '
        'number, or "512KiB", "16MiB"',
    )
    entities: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="cache only these entities; default: every entity"
    )


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
    cache: CacheConfig | None = Field(
        None, description="read cache with ETag/304, off unless given: {ttl, maxBytes, entities}"
    )

    @model_validator(mode="after")
    def _share_fits(self) -> Self:
        share = self.maxInFlightPerConsumer
        if share is not None and share > self.maxInFlight:
            raise ValueError(
                f"maxInFlightPerConsumer ({share}) cannot exceed maxInFlight ({self.maxInFlight})"
            )
        return self

    @model_validator(mode="after")
    def _cached_entities_exposed(self) -> Self:
        cached = self.cache.entities if self.cache is not None else None
        if cached and self.entities is not None:
            unknown = [e for e in cached if e not in self.entities]
            if unknown:
                raise ValueError(
                    f"cache.entities names {', '.join(map(repr, unknown))}, not among the "
                    f"source's entities ({', '.join(self.entities) or 'none'})"
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
