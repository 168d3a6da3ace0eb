"""structlog configuration: contextvars, timestamp, secret redaction, orjson JSON lines."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, BinaryIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.observability.redact import Redactor, is_secret_key

__all__ = ["RedactSecrets", "RenderRedacted", "configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_UNSCRUBBED = frozenset({"timestamp", "level"})
_JSON_OPTS = orjson.OPT_NON_STR_KEYS
_SCALARS = frozenset({str, int, float, bool, type(None)})  # no keys inside: nothing to hide


class RedactSecrets:
    """Processor: secret-named keys hidden whole, every registered secret value cut out of the
    rest (tracebacks included, hence its place after ``format_exc_info``)."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        scrub = self.redactor.scrub
        return {
            key: value if key in _UNSCRUBBED else scrub(value, key)
            for key, value in event_dict.items()
        }


def _fallback(value: Any) -> Any:
    # What orjson cannot encode (exceptions, custom objects) is logged as its repr, as
    # structlog's JSONRenderer does, rather than failing the log call.
    return repr(value)


class RenderRedacted:
    """Final processor: the event as one JSON line (bytes), with exactly what ``RedactSecrets``
    would remove removed, at a fraction of its cost.

    Secret-named keys are hidden up front (a memoized test per key). Then the line is rendered
    once and searched for any registered secret (raw or JSON-escaped); only a line that holds one
    is rendered again from the value-by-value scrub. Nearly no line does, and scrubbing every
    string of every line was most of a log call's cost.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._slow = RedactSecrets(redactor)

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> bytes:
        scrub = self.redactor.scrub
        for key, value in event_dict.items():
            if key in _UNSCRUBBED:
                continue
            if is_secret_key(key) or (  # memoized per key name
                type(value) not in _SCALARS and isinstance(value, Mapping | list | tuple)
            ):
                event_dict[key] = scrub(value, key)  # same key: no resize while iterating
        line = orjson.dumps(event_dict, default=_fallback, option=_JSON_OPTS)
        if self.redactor.found_in(line):
            line = orjson.dumps(
                self._slow(logger, name, event_dict), default=_fallback, option=_JSON_OPTS
            )
        return line


class _BytesHandler(logging.Handler):
    """Standard-library records (aiohttp, asyncio) onto the same stream as structlog's lines."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record).encode() + b"\n")
            self.stream.flush()
        except Exception:
            self.handleError(record)


def _orjson_text(obj: Any, **kw: Any) -> str:
    return orjson.dumps(obj, **kw).decode()


def configure_logging(level: str, redactor: Redactor, *, stream: BinaryIO | None = None) -> None:
    """Process-wide: JSON lines on ``stream`` (stdout), secrets redacted, stdlib logs included."""
    out = stream if stream is not None else sys.stdout.buffer
    threshold = _LEVELS.get(level.lower(), logging.INFO)
    redact = RedactSecrets(redactor)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.format_exc_info,
    ]
    # One output object for every logger: the uncached lazy loggers below would otherwise build
    # a BytesLogger (and look up its lock) on every call.
    sink = structlog.BytesLogger(out)
    structlog.configure(
        processors=[*shared, RenderRedacted(redactor)],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=lambda *_: sink,
        # Not cached: module-level loggers must follow a later reconfiguration (tests, CLI).
        cache_logger_on_first_use=False,
    )
    handler = _BytesHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            *shared,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact,
            structlog.processors.JSONRenderer(serializer=_orjson_text),
        ],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BytesHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
