"""Source health is per org (the credentials that org uses), and /readyz is the process alone.

Against the real emulators over loopback: one org whose backend password is wrong must see the
source down while every other org still sees it up, and no backend state ever fails /readyz.
"""

from __future__ import annotations

from typing import Any

from tests.contract.backends import Harness

GOOD, BAD = "acme", "initech"
GOOD_KEY, BAD_KEY = "acme-app-key-0001", "initech-app-key-0002"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _two_orgs(make_gateway: Any, h: Harness, **source_kw: Any) -> Any:
    """``initech`` reaches the source with credentials the backend refuses; ``acme`` with the
    source's own. Each org has its own consumer."""
    return await make_gateway(
        {h.type: h.source(**source_kw)},
        consumers=[{"name": "acme-app", "apiKey": GOOD_KEY, "orgs": [GOOD]},
                   {"name": "initech-app", "apiKey": BAD_KEY, "orgs": [BAD]}],
        orgs={BAD: {"sources": {h.type: {"auth": h.refused_auth}}}},
    )


async def _listed(gw: Any, org: str, key: str) -> dict[str, Any]:
    resp = await gw.get("/v1/sources", params={"orgId": org}, headers=_auth(key))
    body = await resp.json()
    assert resp.status == 200, body
    (entry,) = body["data"]
    return entry  # type: ignore[no-any-return]


async def test_a_wrong_password_shows_down_to_its_org_only(harness: Harness, make_gateway: Any):
    gw = await _two_orgs(make_gateway, harness)
    bad = await _listed(gw, BAD, BAD_KEY)
    assert (bad["health"], bad["reason"]) == ("down", "backend_auth_failed"), bad
    good = await _listed(gw, GOOD, GOOD_KEY)
    assert (good["health"], good["reason"], good["circuit"]) == ("ok", None, "closed"), good
    assert (await gw.get("/readyz")).status == 200


async def test_failed_calls_of_one_org_do_not_mark_the_source_down_for_another(
    harness: Harness, make_gateway: Any
):
    gw = await _two_orgs(make_gateway, harness)
    good = await _listed(gw, GOOD, GOOD_KEY)  # first seen up, by a check
    assert good["health"] == "ok"
    for _ in range(3):  # real calls with the refused credentials
        resp = await gw.post(f"/v1/records/{harness.type}/{harness.roles.entity}/query",
                             params={"orgId": BAD}, json={"pageSize": 1}, headers=_auth(BAD_KEY))
        assert resp.status == 502 and (await resp.json())["error"] == "backend_auth_failed"
    assert (await _listed(gw, BAD, BAD_KEY))["health"] == "down"
    good = await _listed(gw, GOOD, GOOD_KEY)
    assert (good["health"], good["circuit"]) == ("ok", "closed"), good


async def test_a_consumer_sees_only_its_own_orgs_health(harness: Harness, make_gateway: Any):
    gw = await _two_orgs(make_gateway, harness)
    resp = await gw.get("/v1/sources", params={"orgId": GOOD}, headers=_auth(BAD_KEY))
    assert resp.status == 403 and (await resp.json())["error"] == "forbidden"


async def test_checks_are_shared_while_fresh(harness: Harness, make_gateway: Any):
    gw = await _two_orgs(make_gateway, harness)
    await _listed(gw, GOOD, GOOD_KEY)
    before = len(harness.emulator.log)
    for _ in range(5):
        assert (await _listed(gw, GOOD, GOOD_KEY))["health"] == "ok"
    assert len(harness.emulator.log) == before  # answered from the fresh observation


async def test_readyz_stays_ready_while_the_backend_fails(harness: Harness, make_gateway: Any):
    gw = await _two_orgs(make_gateway, harness, retries=0)
    harness.emulator.faults.fail(500, times=100)
    before = len(harness.emulator.log)
    for _ in range(3):
        resp = await gw.get("/readyz")
        assert resp.status == 200 and await resp.json() == {"status": "ready"}
    assert len(harness.emulator.log) == before  # readiness never asks a backend
    good = await _listed(gw, GOOD, GOOD_KEY)
    assert (good["health"], good["reason"]) == ("down", "backend_error"), good
