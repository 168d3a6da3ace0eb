"""Every test of the conformance kit in one namespace: ``from gateway.testing.suite import *``.

A test module that star-imports this (and sets ``RECORDGATE_HARNESSES``) collects the whole
kit: query exactness, one-record CRUD and error mapping, files, and bulk. The tests are
grouped by topic in ``gateway/testing/contract/``; a module may import one group instead.
"""

from gateway.testing.contract.bulk import *  # noqa: F403
from gateway.testing.contract.bulk import __all__ as _bulk
from gateway.testing.contract.files import *  # noqa: F403
from gateway.testing.contract.files import __all__ as _files
from gateway.testing.contract.query import *  # noqa: F403
from gateway.testing.contract.query import __all__ as _query
from gateway.testing.contract.records import *  # noqa: F403
from gateway.testing.contract.records import __all__ as _records

__all__ = [*_bulk, *_files, *_query, *_records]
