"""The fast log renderer hides exactly what the value-by-value scrub hides."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.observability.logging import RedactSecrets, RenderRedacted
from gateway.observability.redact import REDACTED, Redactor

SECRETS = ("plain-secret-1", 'quo"te\\back', "ünïcode-pw", "line\nbreak-pw")


@pytest.fixture
def redactor() -> Redactor:
    r = Redactor()
    for s in SECRETS:
        r.add(s)
    return r


EVENTS: list[dict[str, Any]] = [
    {"event": "request", "route": "/v1/x", "status": 200, "duration_ms": 1.5},
    {"event": "login", "password": "anything", "apiKey": 12345, "token": None},
    *({"event": "oops", "exception": f"Traceback ... {s} ..."} for s in SECRETS),
    {"event": "nested", "body": {"client_secret": "x", "list": ["a", SECRETS[0]]}},
    {"event": "number", "status": 1234, "timestamp": "2020", "level": "info"},
]


@pytest.mark.parametrize("event", EVENTS)
def test_fast_render_equals_full_scrub(redactor: Redactor, event: dict[str, Any]) -> None:
    fast = RenderRedacted(redactor)(None, "info", dict(event))
    slow = orjson.dumps(RedactSecrets(redactor)(None, "info", dict(event)))
    assert orjson.loads(fast) == orjson.loads(slow)
    for s in SECRETS:
        assert s.encode() not in fast
        assert orjson.dumps(s)[1:-1] not in fast


def test_secret_named_key_hides_value_even_when_not_registered(redactor: Redactor) -> None:
    line = orjson.loads(RenderRedacted(redactor)(None, "info", {"event": "e", "password": "pw"}))
    assert line["password"] == REDACTED
