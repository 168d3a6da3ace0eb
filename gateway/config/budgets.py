"""The ``budgets`` config shape: what one request and one consumer may make the gateway do.

``server.budgets`` holds every budget with its default; ``consumers[].budgets`` overrides any of
them for one consumer, key by key. The defaults are chosen so the demo and an ordinary app never
meet them while the careless requests of issue 16 do (a bulk of 1000 full pages, ten scans at
once); the README's configuration reference says why each number.
"""

from __future__ import annotations

from pydantic import Field

from gateway.config.base import StrictModel

__all__ = ["BudgetOverrides", "Budgets"]


class Budgets(StrictModel):
    """Per request (a bulk counts the sum of its entries) and per consumer."""

    recordsPerRequest: int = Field(
        100_000, ge=1,
        description="records one request may read from backends; a bulk's query entries "
        "count their pageSize up front",
    )
    backendCallsPerRequest: int = Field(
        2_000, ge=1, description="backend calls (each attempt) one request may make"
    )
    responseBytesPerRequest: int = Field(
        64 * 1024 * 1024, ge=1024, description="bytes of one answer (a bulk: all its entries)"
    )
    concurrentScans: int = Field(
        4, ge=1,
        description="queries that walk a backend's records (plan scan) one consumer may run at "
        "once on one replica",
    )
    backendCallsPerSecond: float = Field(
        200.0, gt=0, description="backend calls one consumer's requests may make per second"
    )
    backendCallsBurst: int = Field(
        4_000, ge=1, description="backend calls one consumer may make at once (bucket size)"
    )
    bulkEntriesPerMinute: int = Field(
        10_000, ge=1, description="bulk entries one consumer may send per minute"
    )


class BudgetOverrides(StrictModel):
    """A consumer's own budgets; each key left out is ``server.budgets``'."""

    recordsPerRequest: int | None = Field(None, ge=1)
    backendCallsPerRequest: int | None = Field(None, ge=1)
    responseBytesPerRequest: int | None = Field(None, ge=1024)
    concurrentScans: int | None = Field(None, ge=1)
    backendCallsPerSecond: float | None = Field(None, gt=0)
    backendCallsBurst: int | None = Field(None, ge=1)
    bulkEntriesPerMinute: int | None = Field(None, ge=1)

    def over(self, base: Budgets) -> Budgets:
        """``base`` with this consumer's keys laid over it."""
        given = self.model_dump(exclude_none=True)
        return base.model_copy(update=given) if given else base
