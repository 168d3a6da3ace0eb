"""Record addresses (spec §10): a record id is checked against its connector's shape first.

Every route that takes an id (one record, its files, every ``/v1/bulk`` entry, which runs
through the same records service) calls :func:`check_id` before any backend call, metadata
included.
The URLs themselves are built from encoded segments (``gateway/upstream/urls.py``), so even a
connector that declares no shape cannot be made to call a parent path or a list.
"""

from __future__ import annotations

import structlog

from gateway.connector import Connector
from gateway.errors import Detail, InvalidRequest
from gateway.observability.metrics import Metrics

__all__ = ["check_id"]

log = structlog.get_logger("gateway.addresses")

_SHOWN = 64  # how much of a refused id the message and the log line repeat


def check_id(
    conn: Connector, source: str, record_id: str, *, metrics: Metrics | None = None,
    path: str = "id",
) -> str:
    """``record_id`` when it has the shape ``conn`` declares, else 400 ``invalid_request``."""
    shape = conn.capabilities.id_shape
    if shape.accepts(record_id):
        return record_id
    shown = record_id if len(record_id) <= _SHOWN else record_id[:_SHOWN] + "…"
    # An operator sees every refusal: a burst of them is someone probing the boundary.
    log.warning("record_id_refused", source=source, id=shown)
    if metrics is not None:
        metrics.id_refused(source)
    params = {"id": shown, "source": source, "shape": shape.description}
    raise InvalidRequest("bad_record_id", params,
                         details=[Detail(path, "bad_record_id", params)])
