"""The kit's files tests (gateway/testing/contract/files.py) on the three built-in connectors."""

from gateway.testing.contract.files import *  # noqa: F403
from tests.contract.backends import HARNESSES

RECORDGATE_HARNESSES = [HARNESSES[name] for name in sorted(HARNESSES)]
