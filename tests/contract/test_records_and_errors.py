"""The kit's records tests (gateway/testing/contract/records.py) on the built-in connectors."""

from gateway.testing.contract.records import *  # noqa: F403
from tests.contract.backends import HARNESSES

RECORDGATE_HARNESSES = [HARNESSES[name] for name in sorted(HARNESSES)]
