"""The stamp-then-commit delay every emulator offers tests: a write takes its modified time when
it arrives and becomes visible (and is answered) only later, as a server does that stamps a row
before its hooks run and writes it at the end of the save."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["CommitDelay", "commit_wait"]

# Called with the write's HTTP method and path; answers how long its commit is held: seconds, an
# awaitable the commit waits for (e.g. `event.wait()`, for tests that must not depend on timing),
# or None (no delay: the write commits as it arrives, the default).
CommitDelay = Callable[[str, str], float | Awaitable[Any] | None]


async def commit_wait(hook: CommitDelay | None, method: str, path: str) -> bool:
    """Hold one write as `hook` says; True when it was held (the caller then stamps the write
    with the time it arrived rather than the time it commits)."""
    if hook is None:
        return False
    held = hook(method, path)
    if held is None:
        return False
    if inspect.isawaitable(held):
        await held
    else:
        await asyncio.sleep(max(0.0, float(held)))
    return True
