"""The kit's query tests (gateway/testing/contract/query.py) on the three built-in connectors."""

from gateway.testing.contract.query import *  # noqa: F403
from tests.contract.backends import HARNESSES

RECORDGATE_HARNESSES = [HARNESSES[name] for name in sorted(HARNESSES)]
