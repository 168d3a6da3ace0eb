"""Backend URLs from segments: each segment is one path step, so no input can name another path.

Every connector builds its record, entity and file URLs here (spec §10). A segment is encoded
whole (``/``, ``?``, ``#``, ``%``, ``,`` and the rest become escapes), and the two values that
no encoding can keep a single step (``.`` and ``..``: URL parsers, yarl included, resolve
them and their ``%2E`` spellings away) are refused, as is the empty segment, which would make
a record URL its entity's list URL. A refused segment is a 400 before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from gateway.errors import Detail, InvalidRequest

__all__ = ["UNSAFE_SEGMENTS", "join", "joined", "segment"]

UNSAFE_SEGMENTS = frozenset({"", ".", ".."})


def _refuse(value: str) -> InvalidRequest:
    params = {"value": value}
    return InvalidRequest("unsafe_segment", params,
                          details=[Detail("path", "unsafe_segment", params)])


def segment(value: str) -> str:
    """One path step, percent-encoded; ``InvalidRequest`` for "", "." and ".."."""
    if value in UNSAFE_SEGMENTS:
        raise _refuse(value)
    return quote(value, safe="")


def joined(values: Iterable[str], sep: str = ",") -> str:
    """Several values as one path step separated by ``sep`` (Slingr's id lists). A value that
    holds ``sep`` is refused: encoding it would not help, since the backend decodes the step
    before it splits it."""
    parts = list(values)
    if not parts:
        raise _refuse("")
    for value in parts:
        if sep in value:
            raise _refuse(value)
    return sep.join(segment(v) for v in parts)


def join(base: str, *parts: str) -> str:
    """``base`` followed by each of ``parts`` as exactly one path step."""
    return "/".join([base.rstrip("/"), *(segment(p) for p in parts)])
