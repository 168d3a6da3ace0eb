"""The documented QueryBody and the query parser accept the same shape, so the docs cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.errors import InvalidRequest
from gateway.http.models import QueryBody
from gateway.observability.openapi import REF
from gateway.query.parse import BODY_KEYS, parse_body

# Spec §3's example, verbatim; checked against the spec file itself when it is at hand.
SPEC_EXAMPLE: dict[str, Any] = {
    "fields": "name,industry",
    "filter": [[{"field": "annual_revenue", "operator": ">=", "value": "1000"},
                {"field": "industry", "operator": "==", "value": "Energy"}],
               [{"field": "name", "operator": "startsWith", "value": "Ac"}]],
    "orderBy": [{"field": "name", "order": "ASC"}, {"field": "date_entered", "order": "DESC"}],
    "pageSize": 100, "pageNo": 1,
}
SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "records-api.md"


def test_embedded_example_is_the_specs() -> None:
    if not SPEC.exists():
        pytest.skip("shared/spec not beside the repository")
    section = SPEC.read_text().split("## 3.", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    assert json.loads(block.group(1)) == SPEC_EXAMPLE


def test_spec_example_validates_and_parses() -> None:
    QueryBody.model_validate(SPEC_EXAMPLE)
    q = parse_body(SPEC_EXAMPLE, max_page_size=1000)
    assert q.fields == ("name", "industry") and len(q.filter) == 2 and q.page_size == 100
    assert QueryBody.model_json_schema()["examples"] == [SPEC_EXAMPLE]


def test_schema_keys_are_the_parser_keys() -> None:
    assert set(QueryBody.model_json_schema(ref_template=REF)["properties"]) == set(BODY_KEYS)


@pytest.mark.parametrize("body", [
    {"filter": json.dumps(SPEC_EXAMPLE["filter"]), "orderBy": json.dumps(SPEC_EXAMPLE["orderBy"])},
    {"fields": ["name", "industry"]},
    {"filter": [[{"field": "name", "operator": "in", "value": ["a", "b"]}]]},
    {"filter": [[{"field": "name", "operator": "in", "value": "a,b\\,c"}]]},
    {"filter": [[{"field": "name", "operator": "isNull"}]]},
    {"filter": [[{"field": "n", "operator": "==", "value": 3}]], "orderBy": [{"field": "n"}]},
    {},
])
def test_other_accepted_forms_agree(body: dict[str, Any]) -> None:
    QueryBody.model_validate(body)
    parse_body(body, max_page_size=1000)


@pytest.mark.parametrize("body", [
    {"colour": "red"},
    {"filter": [[{"field": "name", "operator": "~=", "value": "x"}]]},
    {"filter": [[{"field": "name", "operator": "==", "value": "x", "extra": 1}]]},
    {"orderBy": [{"field": "name", "order": "SIDEWAYS"}]},
    {"pageSize": 0},
    {"pageNo": 0},
])
def test_refused_forms_agree(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        QueryBody.model_validate(body)
    with pytest.raises(InvalidRequest):
        parse_body(body, max_page_size=1000)
