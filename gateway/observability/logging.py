"""structlog configuration: contextvars, timestamp, secret redaction, orjson JSON lines; and
:class:`HotLogger`, the same lines for the per-request and per-call paths without structlog's
per-call logger binding."""

from __future__ import annotations

import datetime
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.observability.redact import Redactor, is_secret_key

__all__ = ["DEBUG", "INFO", "WARNING", "HotLogger", "RedactSecrets", "RenderRedacted",
           "configure_logging"]

DEBUG, INFO, WARNING = logging.DEBUG, logging.INFO, logging.WARNING

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


class IsoUtcStamper:
    """Processor: ``timestamp`` as structlog's ``TimeStamper(fmt="iso", utc=True)`` writes it
    (``datetime.now(utc).isoformat()`` with ``Z``: microseconds, none when they are 0), with the
    date and time of day formatted once per second rather than on every line."""

    def __init__(self, key: str = "timestamp") -> None:
        self.key = key
        self._second = -1
        self._prefix = ""

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        second, ns = divmod(time.time_ns(), 1_000_000_000)  # datetime.now floors the same way
        if second != self._second:
            self._prefix = datetime.datetime.fromtimestamp(second, datetime.UTC).strftime(
                "%Y-%m-%dT%H:%M:%S")
            self._second = second
        micros = ns // 1000
        event_dict[self.key] = (f"{self._prefix}.{micros:06d}Z" if micros
                                else f"{self._prefix}Z")
        return event_dict


@dataclass(frozen=True, slots=True)
class _Installed:
    """What :func:`configure_logging` installed, for :class:`HotLogger` to recognize it."""

    processors: list[Processor]
    length: int
    last: Processor
    wrapper: Any
    threshold: int
    sink: Any


_INSTALLED: _Installed | None = None


class HotLogger:
    """A structlog logger for lines written on every request or backend call.

    While the process runs what :func:`configure_logging` installed, a line goes through that
    same processor chain to the same sink, so it is byte for byte what ``structlog``'s logger
    writes, without the per-call binding of a lazy logger (~15 us a line); a level below the
    threshold costs one comparison. Under any other configuration (a test capturing logs, an
    application of its own) it calls ``structlog.get_logger(name)`` as before.
    """

    def __init__(self, name: str) -> None:
        self._log = structlog.get_logger(name)

    @staticmethod
    def _installed() -> _Installed | None:
        fast = _INSTALLED
        if fast is None:
            return None
        config = structlog.get_config()
        procs = config["processors"]
        # capture_logs() swaps the processors inside the same list: compare its contents' ends.
        if (procs is not fast.processors or len(procs) != fast.length or procs[-1] is not fast.last
                or config["wrapper_class"] is not fast.wrapper):
            return None
        return fast

    def enabled(self, level: int) -> bool:
        """Whether a line at ``level`` would be written (always, when not configured by us)."""
        fast = self._installed()
        return fast is None or level >= fast.threshold

    def log(self, level: int, method: str, event: str, fields: dict[str, Any]) -> None:
        """``structlog.get_logger(name).<method>(event, **fields)``; ``fields`` is consumed."""
        fast = self._installed()
        if fast is None:
            getattr(self._log, method)(event, **fields)
            return
        if level < fast.threshold:
            return
        fields["event"] = event
        event_dict: Any = fields
        try:
            for proc in fast.processors:
                event_dict = proc(fast.sink, method, event_dict)
        except structlog.DropEvent:
            return
        getattr(fast.sink, method)(event_dict)


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
        IsoUtcStamper("timestamp"),
        structlog.processors.format_exc_info,
    ]
    # One output object for every logger: the uncached lazy loggers below would otherwise build
    # a BytesLogger (and look up its lock) on every call.
    sink = structlog.BytesLogger(out)
    processors: list[Processor] = [*shared, RenderRedacted(redactor)]
    wrapper = structlog.make_filtering_bound_logger(threshold)
    structlog.configure(
        processors=processors,
        wrapper_class=wrapper,
        logger_factory=lambda *_: sink,
        # Not cached: module-level loggers must follow a later reconfiguration (tests, CLI).
        cache_logger_on_first_use=False,
    )
    global _INSTALLED
    _INSTALLED = _Installed(processors, len(processors), processors[-1], wrapper, threshold, sink)
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
