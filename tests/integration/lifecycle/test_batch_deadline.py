"""A coalesced native batch that runs out of time: the chunk in flight is unknown, later ones 424.

Sugar's /bulk takes 50 writes a call, so 60 creates are two calls; when the first one outlives
the request's deadline, the second is never sent and its entries say so (424, no effect), while
the first's entries are 504 (their outcome is unknown), never the other way round.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.contract.backends import HARNESSES
from tests.integration.lifecycle.served import serve_gateway

ORG = "acme"


async def test_chunks_not_sent_before_the_deadline_answer_424(aiohttp_server: Any) -> None:
    h = HARNESSES["sugarcrm"]()
    await h.start(aiohttp_server)
    before = len(h.records())
    entity = h.roles.entity
    bulk = {"requests": [
        {"method": "POST", "url": f"/v1/records/sugarcrm/{entity}",
         "data": {**h.roles.writable, h.roles.text: f"Chunked {i}"}} for i in range(60)]}
    async with serve_gateway({"sugarcrm": h.source(retries=0)},
                             server={"requestTimeout": 1.0}) as gw:
        async with aiohttp.ClientSession() as s:
            headers = {"Authorization": "Bearer test-key"}
            async with s.post(f"{gw.url}/v1/records/sugarcrm/{entity}/query",
                              params={"orgId": ORG}, json={"pageSize": 1},
                              headers=headers) as warm:
                assert warm.status == 200  # logged in: only the batch call is slow
            h.emulator.faults.latency = 1.5
            async with s.post(f"{gw.url}/v1/bulk", params={"orgId": ORG}, json=bulk,
                              headers=headers) as resp:
                answer = await resp.json()
                assert resp.status == 200, answer
    h.emulator.faults.latency = 0
    statuses = [e["status"] for e in answer]
    assert statuses[:50] == [504] * 50, statuses
    assert statuses[50:] == [424] * 10, statuses
    assert all(e["contents"]["error"] == "not_executed"
               and "stopped before this entry was sent" in e["contents"]["msg"]
               for e in answer[50:])
    assert h.emulator.calls("POST", "/rest/v10/bulk") == 1  # the second chunk never went out
    assert len(h.records()) - before in (0, 50)
