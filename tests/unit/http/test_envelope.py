"""Envelope rendering: msg in the asked locale, the source block, Retry-After, and the key ring."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import orjson

from gateway.errors import Detail, InvalidFilter, NotFound, RateLimited, SourceInfo
from gateway.http.envelope import error_body, error_response
from gateway.http.middleware.consumers import KeyRing


def test_msg_is_the_catalogs_text_in_the_asked_locale() -> None:
    err = NotFound("record_not_found", {"source": "crm", "entity": "Accounts", "id": "7"})
    assert err.msg == str(err) == "Record 7 was not found in crm/Accounts"
    assert error_body(err, locale="en-US", request_id="r")["msg"] == err.msg
    assert error_body(err, locale="zh-CN", request_id="r")["msg"] == (
        "在 crm/Accounts 中未找到记录 7")


def test_an_error_without_a_key_says_its_class_message() -> None:
    assert error_body(NotFound(), locale="es-ES", request_id="r")["msg"] == "No encontrado"


def test_an_unknown_key_renders_as_itself_and_never_fails() -> None:
    err = NotFound("no_such_message", {"x": 1})
    for locale in ("en-US", "ja-JP"):
        assert error_body(err, locale=locale, request_id="r")["msg"] == "no_such_message"
    detail = Detail("x", "no_such_detail")
    assert detail.msg == "no_such_detail"


def test_details_translated_and_top_msg_generic_when_detailed() -> None:
    err = InvalidFilter(details=[Detail("filter[0][0].operator", "bad_operator",
                                        {"operator": "~=", "allowed": "=="})])
    body = error_body(err, locale="es-ES", request_id="r1")
    assert body["msg"] == "El filtro no es válido; consulte details"
    assert body["details"] == [{"path": "filter[0][0].operator",
                                "msg": "Operador desconocido '~='; use uno de =="}]
    assert "source" not in body and body["requestId"] == "r1" and body["code"] == 400


def test_source_block_and_retry_after() -> None:
    err = RateLimited(retry_after=2.1, source=SourceInfo("crm", 429, "too_many"))
    resp = error_response(err, locale="en-US", request_id="r2")
    body: dict[str, Any] = orjson.loads(resp.body)  # type: ignore[arg-type]
    assert resp.status == 429 and resp.headers["Retry-After"] == "3"
    assert body["source"] == {"name": "crm", "status": 429, "error": "too_many"}


def test_keyring_matches_plain_and_hashed_keys_only() -> None:
    plain = SimpleNamespace(name="a", key_sha256=hashlib.sha256(b"key-one").hexdigest())
    hashed = SimpleNamespace(name="b", key_sha256=hashlib.sha256(b"key-two").hexdigest())
    ring = KeyRing([plain, hashed])  # type: ignore[list-item]
    assert ring.find("key-one") is plain and ring.find("key-two") is hashed
    assert ring.find("key-three") is None and ring.find("") is None
