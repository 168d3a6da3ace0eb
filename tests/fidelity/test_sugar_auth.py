"""Sugar emulator: the token endpoint, rotation, eviction and the 401 flavours (doc §2, §12.1-4)."""

from __future__ import annotations

import uuid

from tests.fidelity.conftest import API, login

TOKEN = f"{API}/oauth2/token"


async def test_password_grant_answers_sugar_token_document(raw_client):
    body = await login(raw_client)
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token",
                         "refresh_expires_in", "download_token"}
    assert body["token_type"] == "bearer" and body["scope"] is None
    assert body["expires_in"] == 3600 and body["refresh_expires_in"] == 1209600
    assert uuid.UUID(body["access_token"]).version == 4


async def test_token_endpoint_accepts_json_without_content_type_and_form(raw_client):
    raw = b'{"grant_type":"password","client_id":"sugar","username":"admin","password":"admin"}'
    resp = await raw_client.post(TOKEN, data=raw, headers={"Content-Type": ""})
    assert resp.status == 200
    resp = await raw_client.post(TOKEN, data={"grant_type": "password", "client_id": "sugar",
                                              "username": "admin", "password": "admin"})
    assert resp.status == 200


async def _token_error(client, body):
    resp = await client.post(TOKEN, json=body)
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.status, await resp.json()


async def test_token_endpoint_error_rows(raw_client):
    base = {"grant_type": "password", "client_id": "sugar", "username": "admin",
            "password": "admin"}
    assert await _token_error(raw_client, {**base, "grant_type": "nope"}) == (400, {
        "error": "invalid_request",
        "error_message": "Invalid grant_type parameter or parameter missing"})
    assert await _token_error(raw_client, {**base, "password": ""}) == (400, {
        "error": "invalid_request",
        "error_message": 'Missing parameters. "username" and "password" required'})
    assert await _token_error(raw_client, {**base, "client_id": "other"}) == (400, {
        "error": "invalid_client", "error_message": "The client credentials are invalid"})
    assert await _token_error(raw_client, {**base, "grant_type": "client_credentials"}) == (
        400, {"error": "unauthorized_client"})
    assert await _token_error(raw_client, {**base, "password": "wrong"}) == (401, {
        "error": "need_login", "error_message": "You must specify a valid username and password."})
    assert await _token_error(raw_client, {**base, "platform": "api"}) == (422, {
        "error": "invalid_parameter", "error_message": "Invalid platform specified."})
    assert await _token_error(raw_client, {"grant_type": "refresh_token", "client_id": "sugar"}) \
        == (400, {"error": "invalid_request",
                  "error_message": 'No "refresh_token" parameter found'})


async def test_refresh_rotates_and_reuse_is_invalid_grant(raw_client):
    first = await login(raw_client)
    body = {"grant_type": "refresh_token", "client_id": "sugar", "client_secret": "",
            "refresh_token": first["refresh_token"]}
    resp = await raw_client.post(TOKEN, json=body)
    assert resp.status == 200
    second = await resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    resp = await raw_client.post(TOKEN, json=body)
    assert resp.status == 400
    assert await resp.json() == {"error": "invalid_grant", "error_message": "Invalid refresh token"}


async def test_new_login_evicts_other_session_refresh_token_same_platform_only(raw_client, sugar):
    first = await login(raw_client)
    other_platform = await login(raw_client, platform="recordgate")
    await login(raw_client)  # same user, same platform: evicts `first`
    refresh = {"grant_type": "refresh_token", "client_id": "sugar"}
    resp = await raw_client.post(TOKEN, json={**refresh, "refresh_token": first["refresh_token"]})
    assert resp.status == 400
    resp = await raw_client.post(TOKEN, json={**refresh,
                                              "refresh_token": other_platform["refresh_token"]})
    assert resp.status == 200
    # the evicted session's access token still works until its grace runs out
    ping = await raw_client.get(f"{API}/ping", headers={"OAuth-Token": first["access_token"]})
    assert ping.status == 200 and await ping.json() == "pong"
    sugar.tokens.eviction_grace = 0
    ping = await raw_client.get(f"{API}/ping", headers={"OAuth-Token": first["access_token"]})
    assert ping.status == 401
    assert (await ping.json())["error_message"] == "The access token provided is invalid."


async def test_the_three_401s(raw_client, sugar):
    resp = await raw_client.get(f"{API}/Accounts")
    assert (resp.status, await resp.json()) == (401, {
        "error": "need_login", "error_message": "No valid authentication for user."})
    resp = await raw_client.get(f"{API}/Accounts", headers={"OAuth-Token": "nope"})
    assert (resp.status, await resp.json()) == (401, {
        "error": "invalid_grant", "error_message": "The access token provided is invalid."})
    token = (await login(raw_client))["access_token"]
    sugar.expire_tokens()
    resp = await raw_client.get(f"{API}/Accounts", headers={"OAuth-Token": token})
    assert (resp.status, await resp.json()) == (401, {
        "error": "invalid_grant", "error_message": "The access token provided has expired."})


async def test_short_lifetime_and_logout(aiohttp_client):
    from connectors.sugarcrm.emulator import SugarEmulator

    emu = SugarEmulator(access_token_lifetime=0, accounts=1, contacts=0)
    client = await aiohttp_client(emu.app)
    body = await login(client)
    assert body["expires_in"] == 0
    resp = await client.get(f"{API}/me", headers={"OAuth-Token": body["access_token"]})
    assert resp.status == 401
    emu.tokens.access_lifetime = 60
    body = await login(client)
    headers = {"OAuth-Token": body["access_token"]}
    me = await (await client.get(f"{API}/me", headers=headers)).json()
    assert me["current_user"]["user_name"] == "admin"
    resp = await client.post(f"{API}/oauth2/logout", headers=headers)
    assert await resp.json() == {"success": True}
    assert (await client.get(f"{API}/me", headers=headers)).status == 401
    assert emu.calls("POST", f"{API}/oauth2/token") == 2


async def test_oauth_token_as_post_field(raw_client):
    token = (await login(raw_client))["access_token"]
    resp = await raw_client.post(f"{API}/Accounts/filter",
                                 data={"oauth_token": token, "max_num": "1"})
    assert resp.status == 200
    assert len((await resp.json())["records"]) == 1
