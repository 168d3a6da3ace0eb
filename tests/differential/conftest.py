"""The differential suite's one gateway over the three emulators, shared by its modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential.live import Live


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with Live() as lv:
        yield lv
        print(f"\ndifferential: {lv.checked} queries checked ({lv.queries} query calls) over "
              f"{lv.datasets} datasets; answers by status {dict(lv.statuses)}")
