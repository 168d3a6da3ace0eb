"""Clocks tests give an emulator when they need time to move on in known steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["stepping"]

T = TypeVar("T")


def stepping(start: T, step: Any) -> Callable[[], T]:
    """A clock answering `start`, `start + step`, `start + 2 * step`, … one read at a time (a
    datetime with a timedelta step, or epoch numbers with a number). For tests whose point is that
    two writes are far enough apart for their stamps to differ, which a real clock only makes
    likely."""
    current = [start]

    def clock() -> T:
        moment = current[0]
        current[0] = moment + step
        return moment

    return clock
