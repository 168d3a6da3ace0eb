"""`locale` picks the language of msg, for the error itself and for each detail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.http.conftest import auth

UNKNOWN_SOURCE = {
    "en-US": "Unknown source 'nope'",
    "zh-CN": "未知的数据源 'nope'",
    "ja-JP": "不明なソース 'nope' です",
    "es-ES": "Fuente desconocida 'nope'",
}
BAD_OPERATOR_START = {
    "en-US": "Unknown operator '~='",
    "zh-CN": "未知的运算符 '~='",
    "ja-JP": "不明な演算子 '~=' です",
    "es-ES": "Operador desconocido '~='",
}


@pytest.mark.parametrize("locale", sorted(UNKNOWN_SOURCE))
async def test_error_msg_in_each_locale(client: Any, locale: str) -> None:
    resp = await client.get(f"/v1/records/nope/A/1?orgId=acme&locale={locale}", headers=auth())
    assert (await resp.json())["msg"] == UNKNOWN_SOURCE[locale]


@pytest.mark.parametrize("locale", sorted(BAD_OPERATOR_START))
async def test_detail_msg_in_each_locale(client: Any, locale: str) -> None:
    body = {"filter": [[{"field": "name", "operator": "~=", "value": "x"}]]}
    resp = await client.post(f"/v1/records/mem/Accounts/query?orgId=acme&locale={locale}",
                             json=body, headers=auth())
    got = await resp.json()
    assert got["details"][0]["msg"].startswith(BAD_OPERATOR_START[locale])
    if locale != "en-US":
        assert "Unknown" not in got["msg"]  # the top-level msg is translated too


@pytest.mark.parametrize("spelling", ["zh_CN", "zh-cn", "ZH_cn", "zh"])
async def test_other_spellings_are_accepted(client: Any, spelling: str) -> None:
    resp = await client.get(f"/v1/records/nope/A/1?orgId=acme&locale={spelling}",
                            headers=auth())
    assert (await resp.json())["msg"] == UNKNOWN_SOURCE["zh-CN"]


async def test_unauthorized_is_translated_too(client: Any) -> None:
    resp = await client.get("/v1/sources?orgId=acme&locale=es-ES")
    got = await resp.json()
    assert resp.status == 401 and got["msg"].startswith("Envíe su clave de API")


async def test_backend_text_kept_in_brackets_when_no_key(client: Any) -> None:
    resp = await client.get("/v1/records/mem/flaky/1?orgId=acme&locale=ja-JP", headers=auth())
    got = await resp.json()
    assert got["msg"].startswith("バックエンドは現在利用できません")
    assert got["msg"].endswith("(mem: in maintenance)")
