"""Schemathesis against the demo's own /openapi.json: no input answers 5xx, every answer has a
status the document declares and a body matching its schema.

Every operation gets generated requests (bounded: ``FUZZ_EXAMPLES`` per operation, 40 by
default) of three kinds: schema-valid with generated paths, schema-valid aimed at a real source
and entity of each demo source with the demo org, and schema-violating aimed the same way. The
run is derandomized (the same cases each time, so CI is stable) unless ``FUZZ_RANDOM=1``, and
time-boxed: operations not reached within ``FUZZ_SECONDS`` (default 90) are reported as skipped.
A long hunt by hand: ``FUZZ_EXAMPLES=400 FUZZ_RANDOM=1 FUZZ_SECONDS=600 pytest tests/fuzz``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.demo import DEMO_KEY, DEMO_ORG
from gateway.http.routes import ROUTES
from tests.fuzz.conftest import DemoProcess

schemathesis = pytest.importorskip("schemathesis", reason="a test extra: pip install schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
BUDGET = float(os.environ.get("FUZZ_SECONDS", "90"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
# Real targets in the demo (one per source type), so generated bodies reach the handlers and a
# backend rather than stopping at 404 or 403.
TARGETS = (
    {"source": "sugarcrm", "entity": "Accounts", "id": "1", "field": "logo", "asset": "docs.js"},
    {"source": "slingr", "entity": "companies", "id": "1", "field": "logo", "asset": "docs.css"},
    {"source": "dataservice", "entity": "Olympics", "id": "1", "field": "Logo"},
)


def _strategy(op: Any) -> st.SearchStrategy[Any]:
    query = {"orgId": DEMO_ORG} if "/v1/" in op.path else None
    strategies = [op.as_strategy()]
    for target in TARGETS:
        path = {k: v for k, v in target.items() if k in op.path_parameters}
        strategies.append(op.as_strategy(path_parameters=path, query=query))
        strategies.append(op.as_strategy(GenerationMode.NEGATIVE, path_parameters=path,
                                         query=query))
    return st.one_of(strategies)


def _run(op: Any, url: str, session: requests.Session) -> list[str]:
    """Fuzz one operation; the distinct failures found (empty when it held)."""
    found: dict[str, str] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(case=_strategy(op))
    def fuzz(case: Any) -> None:
        response = case.call(base_url=url, session=session, headers=AUTH, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS, headers=AUTH)
        except (AssertionError, BaseExceptionGroup) as exc:  # a FailureGroup: one per check
            for failure in getattr(exc, "exceptions", [exc]):
                title = str(getattr(failure, "title", failure)).strip()[:200]
                found.setdefault(title, f"{title}\n    {case.as_curl_command(AUTH)}\n"
                                 f"    -> {response.status_code} {response.text[:300]}")

    fuzz()
    return list(found.values())


def test_no_operation_answers_5xx_or_off_schema(demo_process: DemoProcess) -> None:
    document = requests.get(f"{demo_process.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(ROUTES), "every route is in the document"
    started = time.monotonic()
    failures: dict[str, list[str]] = {}
    skipped: list[str] = []
    with requests.Session() as session:
        for op in operations:
            if time.monotonic() - started > BUDGET:
                skipped.append(op.label)
                continue
            problems = _run(op, demo_process.url, session)
            if problems:
                failures[op.label] = problems
    assert demo_process.proc.poll() is None, "the gateway died under fuzzing"
    report = "\n".join(f"{label}:\n  " + "\n  ".join(p) for label, p in failures.items())
    assert not failures, f"fuzzing found:\n{report}"
    assert "unhandled_exception" not in demo_process.output()
    if skipped:
        pytest.skip(f"time box of {BUDGET:.0f} s reached; not fuzzed: {', '.join(skipped)}")
