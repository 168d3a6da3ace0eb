"""Native batch answers (``successRecords``/``failureRecords``) → one outcome per submitted item."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gateway.connector import Record

__all__ = ["BatchOutcome", "outcomes"]

Status = Literal["ok", "failed", "not_executed"]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What happened to item ``index`` of a batch: stored (``record``), refused (``error``), or
    never tried because an earlier item failed with ``failOnFirst``."""

    index: int
    status: Status
    record: Record | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _failures(answer: dict[str, Any]) -> list[dict[str, Any]]:
    # The docs render failureRecords as one object, the SDKs as a list: accept both.
    raw = answer.get("failureRecords")
    if isinstance(raw, dict):
        raw = [raw]
    return [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []


def outcomes(
    items: list[Any],
    answer: Any,
    key: Callable[[Any], Any],
    present: Callable[[dict[str, Any]], Record],
    *,
    fail_on_first: bool,
    by_key: bool = False,
) -> list[BatchOutcome] | None:
    """Align the answer with the submitted ``items``; None when the answer is not a batch answer.

    ``key`` gives what identifies an item in both lists (the Id for update and delete, the
    submitted record itself for insert). A failure carries the item it was given; successes are
    matched by ``key`` too when ``by_key`` (update, delete), else taken in submission order.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("successRecords"), list):
        return None
    successes = [s for s in answer["successRecords"] if isinstance(s, dict)]
    failures = [(key(f.get("record")), f.get("error")) for f in _failures(answer)]
    out: list[BatchOutcome] = []
    stopped = False
    for index, item in enumerate(items):
        if stopped:
            out.append(BatchOutcome(index, "not_executed",
                                    error="not executed: an earlier record failed"))
            continue
        k = key(item)
        hit = next((i for i, (fk, _) in enumerate(failures) if fk == k), None)
        if hit is not None:
            _, error = failures.pop(hit)
            out.append(BatchOutcome(index, "failed",
                                    error=str(error) if error else "refused by the Data Service"))
            stopped = fail_on_first
        elif successes:
            pos = next((i for i, s in enumerate(successes) if key(s) == k), None) if by_key else 0
            if pos is None:
                out.append(BatchOutcome(index, "not_executed",
                                        error="not reported by the Data Service"))
            else:
                out.append(BatchOutcome(index, "ok", record=present(successes.pop(pos))))
        else:
            # Neither listed: the service stopped before it (failOnFirst) or dropped it.
            out.append(BatchOutcome(index, "not_executed",
                                    error="not reported by the Data Service"))
    return out
