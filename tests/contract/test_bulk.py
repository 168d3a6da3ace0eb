"""The kit's bulk tests (gateway/testing/contract/bulk.py) on the three built-in connectors."""

from gateway.testing.contract.bulk import *  # noqa: F403
from tests.contract.backends import HARNESSES

RECORDGATE_HARNESSES = [HARNESSES[name] for name in sorted(HARNESSES)]
