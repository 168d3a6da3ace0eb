"""POST /v1/bulk (spec §6): SugarCRM's /bulk shape, entries run as calls, writes coalesced."""

from gateway.bulk.executor import BulkRun, BulkStats, Emit, run_bulk
from gateway.bulk.model import BulkRequest, EntryResult, EntrySpec, NotExecuted, parse_bulk

__all__ = [
    "BulkRequest", "BulkRun", "BulkStats", "Emit", "EntryResult", "EntrySpec", "NotExecuted",
    "parse_bulk", "run_bulk",
]
