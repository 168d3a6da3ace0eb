"""structlog configuration: contextvars, timestamp, secret redaction, orjson JSON lines."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, BinaryIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.observability.redact import Redactor

__all__ = ["RedactSecrets", "configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


class RedactSecrets:
    """Processor: secret-named keys hidden whole, every registered secret value cut out of the
    rest (tracebacks included, hence its place after ``format_exc_info``)."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        scrubbed: MutableMapping[str, Any] = {
            key: value if key in ("timestamp", "level") else self.redactor.scrub(value, key)
            for key, value in event_dict.items()
        }
        return dict(scrubbed)


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
    structlog.configure(
        processors=[
            *shared,
            redact,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.BytesLoggerFactory(out),
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
