"""The Records API envelopes: success `{data, code, msg}` (+ pagination) and errors, via orjson."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import orjson
from aiohttp import web

from gateway.errors import GatewayError

__all__ = [
    "JSON_TYPE", "dumps", "error_body", "error_response", "json_response", "ok", "ok_body", "page",
    "page_body",
]

JSON_TYPE = "application/json; charset=utf-8"


def _default(value: Any) -> Any:
    # orjson covers dict/list/str/numbers/datetime/UUID; backends also hand us these.
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(body=dumps(body), status=status, headers=headers)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp


def json_response(body: Any, status: int) -> web.Response:
    """``body`` as the JSON answer (an envelope built by :func:`ok_body` or :func:`page_body`)."""
    return _json(body, status)


def ok_body(data: Any) -> dict[str, Any]:
    """``{"data": …, "code": 0, "msg": "OK"}``."""
    return {"data": data, "code": 0, "msg": "OK"}


def page_body(data: list[Any], *, page_no: int, page_size: int, total: int) -> dict[str, Any]:
    """A query answer: the success envelope with its pagination block."""
    return {
        "data": data,
        "pagination": {"pageNo": page_no, "pageSize": page_size, "totalSize": total},
        "code": 0,
        "msg": "OK",
    }


def ok(data: Any, *, status: int = 200) -> web.Response:
    """``{"data": …, "code": 0, "msg": "OK"}``."""
    return _json(ok_body(data), status)


def page(data: list[Any], *, page_no: int, page_size: int, total: int) -> web.Response:
    """A query answer: the success envelope with its pagination block."""
    return _json(page_body(data, page_no=page_no, page_size=page_size, total=total), 200)


def error_body(err: GatewayError, *, locale: str, request_id: str) -> dict[str, Any]:
    """The error envelope: ``msg`` and each detail's ``msg`` in ``locale``."""
    body: dict[str, Any] = {
        "code": err.status,
        "error": err.error,
        "msg": err.text(locale),
        "details": [{"path": d.path, "msg": d.text(locale)} for d in err.details],
        "requestId": request_id,
    }
    if err.source is not None:
        body["source"] = {
            "name": err.source.name, "status": err.source.status, "error": err.source.error,
        }
    return body


DEFAULT_RETRY_AFTER = 1.0


def error_response(
    err: GatewayError, *, locale: str, request_id: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The error envelope with the error's status; ``Retry-After`` when the error has one.

    Only ``gateway/http/middleware/errors.py`` calls this (errors are rendered in one place).
    """
    extra = dict(headers or {})
    retry_after = err.retry_after
    if retry_after is None and err.status in (429, 503):
        # The contract promises Retry-After on these; when the backend named no wait, a short one.
        retry_after = DEFAULT_RETRY_AFTER
    if retry_after is not None and retry_after >= 0:
        extra["Retry-After"] = str(max(0, math.ceil(retry_after)))
    return _json(error_body(err, locale=locale, request_id=request_id), err.status, extra)
