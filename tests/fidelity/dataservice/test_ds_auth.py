"""Data Service emulator: Identity token grants, Bearer checks, scopes and the documented texts."""

from __future__ import annotations

from tests.fidelity.dataservice.conftest import API, TOKEN, get_token

UNAUTH = ("You are not authenticated to access Data Service. Make sure your Assistant or Robot "
          "is connected to a modern folder in your account.")
FORBIDDEN = ("You don't have permission to access the entity, field or record or you are using "
             "an unsupported robot type. Please contact your administrator for necessary "
             "permissions.")


async def test_client_credentials_token_is_an_hour_long_bearer(raw_client):
    body = await get_token(raw_client)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"DataService.Data.Read", "DataService.Data.Write",
                                          "DataService.Schema.Read"}
    assert "refresh_token" not in body  # client credentials: get a new token instead


async def test_token_errors_are_oauth_json(raw_client):
    cases = [({"grant_type": "client_credentials", "client_id": "recordgate",
               "client_secret": "nope"}, "invalid_client"),
             ({"grant_type": "client_credentials", "client_id": "ghost",
               "client_secret": "x"}, "invalid_client"),
             ({"grant_type": "client_credentials", "client_id": "recordgate",
               "client_secret": "recordgate-secret", "scope": "OR.Execution"}, "invalid_scope"),
             ({"grant_type": "password", "client_id": "recordgate"}, "unsupported_grant_type"),
             ({"client_id": "recordgate"}, "invalid_request")]
    for form, error in cases:
        resp = await raw_client.post(TOKEN, data=form)
        assert resp.status == 400
        assert (await resp.json())["error"] == error


async def test_json_token_request_gets_html_200(raw_client):
    resp = await raw_client.post(TOKEN, json={"grant_type": "client_credentials",
                                              "client_id": "recordgate",
                                              "client_secret": "recordgate-secret"})
    assert resp.status == 200 and resp.content_type == "text/html"


async def test_refresh_grant_with_offline_access_rotates(raw_client):
    first = await get_token(raw_client, scope="DataService.Data.Read offline_access")
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "client_id": "recordgate"}
    resp = await raw_client.post(TOKEN, data=form)
    body = await resp.json()
    assert resp.status == 200 and body["access_token"] != first["access_token"]
    again = await raw_client.post(TOKEN, data=form)  # the used refresh token is gone
    assert again.status == 400 and (await again.json())["error"] == "invalid_grant"


async def test_standalone_identity_path(raw_client):
    resp = await raw_client.post("/identity/connect/token", data={
        "grant_type": "client_credentials", "client_id": "recordgate",
        "client_secret": "recordgate-secret"})
    assert resp.status == 200


async def test_missing_bad_and_expired_tokens_answer_401_with_the_doc_text(raw_client, ds):
    path = f"{API}/EntityService/Olympics/read"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        resp = await raw_client.get(path, headers=headers)
        body = await resp.json()
        assert resp.status == 401 and body["error"] == UNAUTH and len(body["traceId"]) == 32
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    token = (await get_token(raw_client))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await raw_client.get(path, headers=auth)).status == 200
    ds.expire_tokens()
    resp = await raw_client.get(path, headers=auth)
    assert resp.status == 401 and "expired" in resp.headers["WWW-Authenticate"]


async def test_short_token_lifetime_expires(aiohttp_client):
    import asyncio

    from connectors.dataservice.emulator import DataServiceEmulator

    emu = DataServiceEmulator(olympics=1, athletes=0, token_lifetime=1)
    client = await aiohttp_client(emu.app)
    body = await get_token(client)
    assert body["expires_in"] == 1
    await asyncio.sleep(1.1)
    resp = await client.get(f"{API}/EntityService/Olympics/read",
                            headers={"Authorization": f"Bearer {body['access_token']}"})
    assert resp.status == 401


async def test_missing_scope_is_403_with_the_doc_text(raw_client):
    token = (await get_token(raw_client, scope="DataService.Data.Read"))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await raw_client.get(f"{API}/EntityService/Olympics/read", headers=auth)).status == 200
    resp = await raw_client.post(f"{API}/EntityService/Olympics/insert", headers=auth,
                                 json={"Name": "x"})
    assert resp.status == 403 and (await resp.json())["error"] == FORBIDDEN
    resp = await raw_client.get(f"{API}/Entity", headers=auth)
    assert resp.status == 403


async def test_datafabric_scope_names_are_accepted(raw_client):
    token = (await get_token(raw_client, scope="DataFabric.Data.Read"))["access_token"]
    resp = await raw_client.get(f"{API}/EntityService/Olympics/read",
                                headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200


async def test_create_app_credentials_replace_the_default(aiohttp_client):
    from connectors.dataservice.emulator import EMULATOR_KEY, create_app

    app = create_app("me", "pw", olympics=2, athletes=0)
    client = await aiohttp_client(app)
    await get_token(client, client_id="me", secret="pw")
    resp = await client.post(TOKEN, data={"grant_type": "client_credentials",
                                          "client_id": "recordgate",
                                          "client_secret": "recordgate-secret"})
    assert resp.status == 400
    assert len(app[EMULATOR_KEY].store.all("Olympics")) == 2
