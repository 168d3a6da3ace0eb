"""Fixtures for the query core tests (the fake connector lives in query_fakes.py)."""

from __future__ import annotations

import pytest
from query_fakes import sample_records

from gateway.connector import Record


@pytest.fixture
def records() -> list[Record]:
    return sample_records()
