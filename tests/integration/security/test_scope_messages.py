"""What a scope refusal says: the exact message, in the asked locale, alone and as a bulk entry.

A consumer refused by its scopes must learn which source, entity or operation it lacks and what
it may do instead; the same words, translated, whether the call came alone or inside /v1/bulk.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.security.conftest import KEY, ORG, Gateway, auth, memory_source

SOURCES = {"mem": memory_source(), "other": memory_source()}

CASES = [
    ({"sources": ["other"]}, "GET", "/v1/records/mem/Accounts/1",
     "This API key may not use source 'mem'",
     "Esta clave de API no puede usar la fuente 'mem'"),
    ({"entities": ["mem/Accounts"]}, "GET", "/v1/records/mem/Contacts/1",
     "This API key may not use entity 'mem/Contacts'",
     "Esta clave de API no puede usar la entidad 'mem/Contacts'"),
    ({"operations": ["read", "bulk"]}, "DELETE", "/v1/records/mem/Accounts/1",
     "This API key may not perform 'delete' operations (it may: read, bulk)",
     "Esta clave de API no puede realizar operaciones 'delete' (puede: read, bulk)"),
    ({"operations": ["bulk"]}, "GET", "/v1/records/mem/Accounts/1",
     "This API key may not perform 'read' operations (it may: bulk)",
     "Esta clave de API no puede realizar operaciones 'read' (puede: bulk)"),
]


@pytest.mark.parametrize(("scopes", "method", "url", "english", "spanish"), CASES)
async def test_a_refusal_names_what_is_missing_alone_and_in_bulk(
    gateway: Gateway, scopes: dict[str, Any], method: str, url: str, english: str,
    spanish: str,
) -> None:
    consumers = [{"name": "app", "apiKey": KEY, "orgs": [ORG],
                  "scopes": {**scopes, "operations": scopes.get("operations",
                                                                ["read", "bulk", "delete"])}}]
    gw = await gateway(sources=SOURCES, consumers=consumers)
    for locale, text in (("en-US", english), ("es-ES", spanish)):
        resp = await gw.request(method, url, params={"orgId": ORG, "locale": locale},
                                headers=auth())
        body = await resp.json()
        assert resp.status == 403, body
        assert (body["code"], body["error"], body["msg"]) == (403, "forbidden", text)
        entry = {"url": url, "method": method}
        bulk = await gw.post("/v1/bulk", params={"orgId": ORG, "locale": locale},
                             json={"requests": [entry]}, headers=auth())
        got = await bulk.json()
        assert bulk.status == 200, got
        assert got[0]["status"] == 403 and got[0]["contents"]["msg"] == text, got
