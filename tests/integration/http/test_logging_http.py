"""Logs are JSON lines with one access line per request, and no secret ever reaches them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import structlog

from gateway.http.app import create_app
from gateway.observability.logging import configure_logging
from gateway.observability.redact import Redactor
from tests.integration.http.conftest import (
    APP_KEY,
    BACKEND_PASSWORD,
    GLOBEX_PASSWORD,
    HASHED_KEY,
    auth,
)


@pytest.fixture
def log_stream() -> Iterator[io.BytesIO]:
    stream = io.BytesIO()
    yield stream
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__name__ == "_BytesHandler":
            root.removeHandler(handler)


@pytest.fixture
async def logged(aiohttp_client: Any, config: Any, log_stream: io.BytesIO) -> Any:
    redactor = Redactor()
    configure_logging("debug", redactor, stream=log_stream)
    return await aiohttp_client(create_app(config, redactor=redactor, configure_logs=False))


def lines(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_no_secret_in_any_log_line(logged: Any, log_stream: io.BytesIO) -> None:
    await logged.get("/v1/records/mem/Accounts/1?orgId=acme", headers=auth())
    await logged.get("/v1/records/mem/Accounts/1?orgId=globex", headers=auth())
    await logged.get("/v1/records/mem/boom/1?orgId=acme", headers=auth())  # traceback w/ password
    await logged.get("/v1/records/mem/flaky/1?orgId=acme", headers=auth(HASHED_KEY))
    await logged.get("/v1/sources?orgId=acme", headers=auth("guessed-wrong-key"))
    structlog.get_logger("test").info("login", password=BACKEND_PASSWORD, apiKey=APP_KEY)
    logging.getLogger("aiohttp.test").warning("stdlib says %s", GLOBEX_PASSWORD)
    raw = log_stream.getvalue()
    for secret in (APP_KEY, HASHED_KEY, BACKEND_PASSWORD, GLOBEX_PASSWORD):
        assert secret.encode() not in raw, secret
    records = lines(log_stream)  # every line is JSON
    bug = next(r for r in records if r["event"] == "unhandled_exception")
    assert "RuntimeError" in bug["exception"] and "[redacted]" in bug["exception"]
    assert any(r.get("password") == "[redacted]" for r in records)
    assert any("stdlib says [redacted]" in r["event"] for r in records)


async def test_one_access_line_per_request_with_fields(
    logged: Any, log_stream: io.BytesIO
) -> None:
    resp = await logged.get("/v1/records/mem/Accounts/3?orgId=acme",
                            headers={**auth(), "X-Request-Id": "trace-me-1"})
    assert resp.status == 200
    access = [r for r in lines(log_stream) if r["event"] == "request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "trace-me-1" and line["consumer"] == "app"
    assert line["org"] == "acme" and line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/v1/records/{source}/{entity}/{id}"
    assert line["backend_calls"] >= 1 and line["backend_ms"] > 0
    assert line["duration_ms"] >= 0 and "timestamp" in line and line["level"] == "info"


async def test_error_id_on_the_access_line(logged: Any, log_stream: io.BytesIO) -> None:
    await logged.get("/v1/records/nope/A/1?orgId=acme", headers=auth())
    (line,) = [r for r in lines(log_stream) if r["event"] == "request"]
    assert line["status"] == 404 and line["error"] == "not_found"
