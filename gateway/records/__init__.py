"""The records service: typed commands run with the same checks for single calls and bulk."""

from gateway.records.commands import (
    Caller,
    Create,
    Delete,
    Get,
    ListEntities,
    ListSources,
    Query,
    Update,
)
from gateway.records.service import Answer, PlannedWrite, RecordsService

__all__ = [
    "Answer", "Caller", "Create", "Delete", "Get", "ListEntities", "ListSources",
    "PlannedWrite", "Query", "RecordsService", "Update",
]
