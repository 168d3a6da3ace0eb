"""`gateway serve` stopping under load (issue 16, repro 8): a second SIGTERM during the drain
used to kill the process mid-bulk (4 of 15 creates stored, the client saw a dropped connection).
Now the second signal only ends the drain window: the create in flight finishes, the bulk call
starts no further entry, and the client gets its answer: 201 for each create stored, 424
``not_executed`` for the rest, which never reached the backend."""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import Any

import aiohttp

from tests.conftest import gateway_config_text
from tests.contract.backends import HARNESSES
from tests.integration.lifecycle.served import eventually

ORG = "acme"
AUTH = {"Authorization": "Bearer test-key"}
CREATE = "/dev/runtime/api/data/companies"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_a_second_sigterm_cuts_no_write_already_sent(
    spawn: Any, free_port: int, tmp_path: Any, aiohttp_server: Any
) -> None:
    h = HARNESSES["slingr"]()
    await h.start(aiohttp_server)  # in this process: the loop must keep running (no blocking)
    before = len(h.records())
    config = tmp_path / "gateway.yaml"
    config.write_text(gateway_config_text({"slingr": h.source()}, server={"drainTimeout": 60}))
    proc = spawn("serve", "--config", str(config), "--port", str(free_port))
    await eventually(lambda: _listening(free_port) or proc.poll() is not None, 20, "listening")
    assert proc.poll() is None
    url = f"http://127.0.0.1:{free_port}"
    creates = {"requests": [
        {"method": "POST", "url": f"/v1/records/slingr/companies?orgId={ORG}",
         "data": {**h.roles.writable, "name": f"Stop {i}"}} for i in range(15)]}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/v1/records/slingr/companies",
                               params={"orgId": ORG, "pageSize": "1"}, headers=AUTH) as resp:
            assert resp.status == 200  # logged in: every later backend call is a create

        async def bulk() -> tuple[int, Any]:
            async with session.post(f"{url}/v1/bulk", params={"orgId": ORG}, json=creates,
                                    headers={**AUTH, "Idempotency-Key": "stop-bulk"}) as resp:
                return resp.status, await resp.json()

        h.emulator.faults.latency = 0.3
        answer = asyncio.ensure_future(bulk())

        def stored() -> int:
            return sum(1 for c in h.emulator.log if c.method == "POST" and c.path == CREATE)

        await eventually(lambda: stored() >= 1, 10, "the first create stored")
        proc.send_signal(signal.SIGTERM)
        await eventually(lambda: stored() >= 3, 10, "creates go on during the drain")
        proc.send_signal(signal.SIGTERM)
        status, results = await asyncio.wait_for(answer, 30)
    assert status == 200, results
    statuses = [entry["status"] for entry in results]
    done = statuses.count(201)
    assert 3 <= done < 15 and statuses == [201] * done + [424] * (15 - done), statuses
    assert all(e["contents"]["error"] == "not_executed" for e in results[done:])
    assert len(h.records()) - before == done == stored()  # every create sent is stored
    await eventually(lambda: proc.poll() is not None, 20, "the gateway exited")
    assert proc.returncode == 0
