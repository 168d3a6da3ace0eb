"""What a planned query costs in backend calls, and the plan as ``explain=true`` answers it.

The bound counts the calls ``gateway/query/execute.py`` and ``ties.py`` make for one page:
counts and fetches (metadata and token calls are not part of a query's plan). It holds when
the backend keeps its promises: each fetch returns as many records as asked up to the end of
the data (``caps.max_page`` at most), the answer that reaches the end says so (``Page.more``
false, or a total), and a backend with ``page_totals`` reports the total in every answer; a
backend silent about the end may need one call more per walk to find it. Nothing here calls a
backend, so what is unknown before running (how many records match) is bounded by what the
gateway would ever read (``server.maxScanRecords``):

  ``window``  ``ceil(pageSize / maxPage)`` fetches, plus 1 count unless their answers carry the
              total. Exact when the page lies within the matching records; a page reaching
              past their end may cost fewer (a fetch that starts where the data is already
              known to end is not sent).
  ``scan``    1 count + ``ceil(matches / maxPage)`` fetches, matches <= maxScanRecords (more is
              refused after the count); without counts, fetches one after another until the
              data ends, at most ``ceil((maxScanRecords + 1) / maxPage)``.
  ``ties``    round 1 (1 count + the window's fetches); round 2 per boundary value (at most 2
              per round-1 fetch) 1 fetch, or when the group fills one, 1 count + the group's
              fetches (a group is at most maxScanRecords); up to 2 counts per side (one with
              OR groups) when the page lies inside one group; plus the scan it may fall back to,
              ``ceil(totalSize / maxPage)`` fetches with the total already counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from gateway.connector import Capabilities
from gateway.query.model import Query
from gateway.query.plan import Plan

__all__ = ["Estimate", "estimate", "explain"]


@dataclass(frozen=True, slots=True)
class Estimate:
    """At most ``at_most`` backend calls for the page; exactly that many when ``exact`` and the
    page lies within the matching records."""

    at_most: int
    exact: bool


def estimate(the_plan: Plan, caps: Capabilities, page_size: int, max_scan: int) -> Estimate:
    """The bound of the module docstring for one page of ``the_plan``."""
    mp = max(1, caps.max_page)
    window = ceil(page_size / mp)
    scan = ceil(max_scan / mp)  # the fetches of a scan that reads maxScanRecords
    if the_plan.strategy == "window":
        return Estimate(window if caps.page_totals else 1 + window, exact=True)
    if the_plan.strategy == "scan":
        if caps.counts:
            return Estimate(1 + scan, exact=False)
        return Estimate(ceil((max_scan + 1) / mp), exact=False)
    boundary_values = 2 * window
    per_group = 2 + ceil(max(0, max_scan - mp) / mp)  # first fetch, count, the rest
    sides = 2 if caps.or_groups else 4
    return Estimate(1 + window + boundary_values * per_group + sides + scan, exact=False)


def explain(the_plan: Plan, caps: Capabilities, query: Query, max_scan: int) -> dict[str, Any]:
    """The ``data`` of an ``explain=true`` answer (spec §13): the plan, the page it is for,
    and its cost (``backendCalls`` says it as a formula of what only running would know)."""
    cost = estimate(the_plan, caps, query.page_size, max_scan)
    out = the_plan.explain()
    del out["fallback"]  # what a run decided; a plan not run has none
    return out | {
        "fallsBackTo": "scan" if the_plan.strategy == "ties" else None,
        "page": {"pageNo": query.page_no, "pageSize": query.page_size},
        "estimatedBackendCalls": cost.at_most,
        "estimateExact": cost.exact,
    }
