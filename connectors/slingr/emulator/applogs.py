"""App logs: GET /status/logs (query) and POST /status/logs (EXTERNAL logs), developers only.

The emulator itself logs what the documented APP sub-types name: logins (`LOGIN`, message
`POST /login`, no IP, as the seed's sample shows) and REST record calls (`REST_API_RECORD_*`,
`REST_API_ACTION_EXECUTED`, message `<METHOD> /api<path>`). Logs keep their own clock and id
counter so logging never moves the record store's pinned clock. Where the docs are silent:
- (inferred) the answer is `{"items", "total"}` exactly as the sample shows (no `offset`);
  `_offset` is a number of logs to skip; `_size` defaults to 200 and is clamped to 1,000;
- (inferred) logs come oldest first, as in both samples; at most `cap` are kept (they rotate);
- (inferred) `period` is `today`, `yesterday` (UTC days) or a duration such as `3h 30m`
  (units w, d, h, m, s, ms) back from now; `userEmail` and `message` match case-insensitively.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any

from multidict import MultiMapping

from connectors.slingr.emulator.errors import FieldError, SlingrError, validation_error
from connectors.slingr.emulator.store import ObjectIds, now_ms

__all__ = ["LEVELS", "AppLogs"]

LEVELS = ("INFO", "WARN", "ERROR")
_DAY = 86_400_000
_UNITS = {"w": 7 * _DAY, "d": _DAY, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_DURATION = re.compile(r"\s*(\d+)\s*(ms|w|d|h|m|s)\s*")


def bad(message: str) -> SlingrError:
    return SlingrError(400, "badRequest", message)


def _period(text: str, now: int) -> tuple[int, int]:
    if text == "today":
        return now - now % _DAY, now
    if text == "yesterday":
        start = now - now % _DAY
        return start - _DAY, start - 1
    pos, total = 0, 0
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if m is None or m.end() == pos:
            raise bad(f"Invalid period [{text}]")
        total += int(m[1]) * _UNITS[m[2]]
        pos = m.end()
    if not text.strip():
        raise bad("Invalid period []")
    return now - total, now


def _ms(params: MultiMapping[str], key: str) -> int | None:
    raw = params.get(key)
    if raw is None:
        return None
    if not re.fullmatch(r"\d+", raw):
        raise bad(f"Invalid [{key}] timestamp [{raw}], it must be milliseconds")
    return int(raw)


class AppLogs:
    """The app's log, oldest first; `clock` and `ids` are the knobs tests pin."""

    def __init__(self, cap: int = 10_000) -> None:
        self.clock: Callable[[], int] = now_ms
        self.ids = ObjectIds(counter=0xC00000)
        self.entries: deque[dict[str, Any]] = deque(maxlen=cap)

    def add(self, message: str, *, user_email: str | None, admin_email: str | None = None,
            ip: str | None = None, level: str = "INFO", log_type: str = "APP",
            sub_type: str | None = None,
            additional_info: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append one log; `additionalInfo` only appears when given, as in the samples."""
        timestamp = self.clock()
        entry: dict[str, Any] = {
            "id": self.ids.new(timestamp), "type": log_type, "subType": sub_type,
            "level": level, "message": message, "userEmail": user_email,
            "adminUserEmail": admin_email, "timestamp": timestamp, "ip": ip,
        }
        if additional_info is not None:
            entry["additionalInfo"] = additional_info
        self.entries.append(entry)
        return entry

    def post(self, body: Any, user_email: str, admin_email: str | None,
             ip: str | None) -> dict[str, Any]:
        """POST /status/logs: an EXTERNAL log from `level`, `message`, `additionalInfo`."""
        if not isinstance(body, dict):
            raise bad("The body must be a JSON object with level and message")
        errors = []
        level, message, info = body.get("level"), body.get("message"), body.get("additionalInfo")
        if level is None or level == "":
            errors.append(FieldError("level", None, "required", "Level cannot be empty"))
        elif level not in LEVELS:
            errors.append(FieldError("level", None, "invalid",
                                     "Level must be INFO, WARN or ERROR", level))
        if message is None or message == "":
            errors.append(FieldError("message", None, "required", "Message cannot be empty"))
        elif not isinstance(message, str):
            errors.append(FieldError("message", None, "invalid", "Message must be a string",
                                     message))
        if info is not None and not isinstance(info, dict):
            errors.append(FieldError("additionalInfo", None, "invalid",
                                     "Additional info must be an object", info))
        if errors:
            raise validation_error(errors)
        assert isinstance(level, str) and isinstance(message, str)
        return self.add(message, user_email=user_email, admin_email=admin_email, ip=ip,
                        level=level, log_type="EXTERNAL", additional_info=info)

    def query(self, params: MultiMapping[str]) -> dict[str, Any]:
        """GET /status/logs with userEmail, period or from/to, level, message, _size, _offset."""
        low, high = _ms(params, "from"), _ms(params, "to")
        if "period" in params:  # a period discards from/to [SD-API]
            low, high = _period(params["period"].strip(), self.clock())
        levels = None
        if "level" in params:
            levels = {v.strip().upper() for v in params["level"].split(",") if v.strip()}
            if not levels <= set(LEVELS):
                raise bad(f"Invalid level [{params['level']}]")
        who = params.get("userEmail", "").lower()
        text = params.get("message", "").lower()
        rows = [e for e in self.entries
                if (low is None or e["timestamp"] >= low)
                and (high is None or e["timestamp"] <= high)
                and (levels is None or e["level"] in levels)
                and (not who or who in (e["userEmail"] or "").lower())
                and (not text or text in e["message"].lower())]
        size, skip = params.get("_size", "200"), params.get("_offset", "0")
        if not re.fullmatch(r"\d+", size) or int(size) < 1:
            raise bad(f"Invalid size [{size}]")
        if not re.fullmatch(r"\d+", skip):
            raise bad(f"Invalid offset [{skip}]")
        start = int(skip)
        return {"items": rows[start:start + min(int(size), 1000)], "total": len(rows)}
