"""Explain (spec §13): the plan a query would run, answered without reading records.

The same checks as the query itself, in the same order (the source and entity exist, the query
parses against the entity's description, the consumer may filter and sort on what it names),
then the planner's split and cost (``gateway/query/cost.py``). The only backend call it can make
is the entity's description, which connectors cache.
"""

from __future__ import annotations

from gateway.http.envelope import ok_body
from gateway.query.cost import explain as explain_plan
from gateway.query.parse import parse_body, parse_params
from gateway.query.plan import plan
from gateway.records.commands import Query
from gateway.records.service import Answer, RecordsService
from gateway.related import check_query

__all__ = ["explain"]


async def explain(service: RecordsService, cmd: Query) -> Answer:
    """The plan of ``cmd`` as ``{"data": {"strategy", "pushed", "residual",
    "estimatedBackendCalls", …}}``; a query that would be refused is refused the same way."""
    source = service.sources.get(cmd.source)
    conn = source.connector(cmd.caller.org, cmd.caller.consumer)
    with source.observe():
        info = await conn.describe(cmd.entity)
    size = service.server.maxPageSize
    q = (parse_body(cmd.body, max_page_size=size, entity=info) if cmd.body is not None
         else parse_params(cmd.params, max_page_size=size, entity=info))
    await check_query(q, cmd.caller.consumer, source.name, info, conn.describe)
    caps = conn.capabilities
    the_plan = plan(q, info, caps, conn.pushable)
    return Answer(200, ok_body(explain_plan(the_plan, caps, q, service.server.maxScanRecords)))
