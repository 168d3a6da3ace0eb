"""The port every backend implements: the Connector roles, its Capabilities and its data shapes.

The planner (``gateway/query/plan.py``) reads a connector's :class:`Capabilities` and
:meth:`Connector.pushable` to decide what goes to the backend; it never asks which backend it is.
A connector answers in gateway terms: records are plain dicts whose identifier is under ``id``,
failures are ``gateway.errors`` classes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Protocol, TypeAlias, cast, runtime_checkable

from gateway.collation import Collation
from gateway.errors import Unsupported
from gateway.query.model import Condition, Filter, OrderKey

__all__ = [
    "ANY_ID",
    "BatchAction",
    "BatchOp",
    "BatchOutcome",
    "BatchWriter",
    "Capabilities",
    "Collation",
    "Connector",
    "EntityInfo",
    "FieldInfo",
    "FieldType",
    "FileDownload",
    "FileInfo",
    "FileStore",
    "IdShape",
    "Page",
    "PushedQuery",
    "Record",
    "Writer",
    "batch_writer",
    "file_store",
    "plays",
    "writer",
]

Record: TypeAlias = dict[str, Any]

# The types the residual evaluator knows how to compare; a connector maps its own types onto these.
FieldType: TypeAlias = Literal[
    "string", "integer", "number", "boolean", "date", "datetime", "file", "json"
]


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    type: FieldType = "string"
    filterable: bool = True
    sortable: bool = True
    multivalued: bool = False
    # A relationship: the entity whose records the value refers to or embeds ("*": the backend
    # does not say which). A consumer not allowed that entity sees only the ids there.
    related: str | None = None
    # With ``related``: the value is a copy of the related record's data (a Sugar relate
    # field), not its id; it is hidden (null) from a consumer not allowed that entity.
    related_copy: bool = False
    # The backend's own type of the field (Slingr ``choice``, Data Service ``uuid``), when it
    # says more than ``type``: read back by the connector that described the entity, in
    # ``pushable`` and its query translation; the gateway never looks at it.
    kind: str | None = None
    # The only values the backend accepts in the field (a choice's options), when it says.
    options: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class EntityInfo:
    """An entity (Sugar module, Slingr entity, Data Service entity) and its fields."""

    name: str
    fields: Mapping[str, FieldInfo] = field(default_factory=dict)
    label: str | None = None

    def field(self, name: str) -> FieldInfo | None:
        return self.fields.get(name)


@dataclass(frozen=True, slots=True)
class IdShape:
    """What a backend's record ids look like (spec §10); an id of another shape is refused
    before any backend call, so it can never name a list, an action or another path.

    ``pattern`` must match the whole id; ``reserved`` are words the backend routes where an id
    would stand (its list, count or action paths), compared case-insensitively; ``.`` and
    ``..`` are never ids. ``description`` completes "ids are ..." in error messages.
    """

    pattern: str
    description: str
    reserved: frozenset[str] = frozenset()
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern, re.ASCII | re.DOTALL))

    def accepts(self, value: str) -> bool:
        return (
            self._regex.fullmatch(value) is not None
            and value not in (".", "..")
            and value.lower() not in self.reserved
        )


# Any id but the empty one, a path step or one with control characters: the shape a connector
# gets when it declares none (its URLs are still built from encoded segments).
ANY_ID = IdShape(r"[^\x00-\x1f\x7f]{1,255}", "1 to 255 characters without control characters")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do itself, read by the planner and shown in the README's table.

    Everything a backend cannot do the gateway finishes exactly (spec §3), so these are
    promises: an operator listed in ``operators`` must give the same answer on the backend as
    ``gateway/query/evaluate.py`` gives on the same data (null and case rules included).
    """

    operators: frozenset[str]  # gateway operators the backend evaluates with gateway semantics
    or_groups: bool  # can evaluate an OR of AND groups across different fields
    sort: bool  # can sort at all
    multi_sort: bool  # can sort by several keys in one call
    max_page: int  # the most records one call returns
    counts: bool  # has a count call (else totalSize needs a walk)
    page_totals: bool = False  # every query answer also says how many records match (Page.total)
    native_batch: bool = False  # has a batch write call (used by /bulk)
    batch_limit: int | None = None  # most writes in one native batch
    batch_actions: frozenset[str] = frozenset()  # which of create/update/delete it batches
    batch_fail_on_first: bool = False  # its batch call can stop at the first failure
    case_insensitive: bool = True  # string equality, LIKE and ordering ignore case
    nulls_first: bool = True  # in ascending order, null sorts before any value
    files: bool = False  # can store files on record fields (spec §5)
    # The backend's own order of identifiers, when it is not plain string order (SQL Server
    # orders GUIDs by their last bytes first); ties are broken in this order everywhere.
    id_key: Callable[[Any], Any] | None = None
    id_shape: IdShape = ANY_ID  # what its record ids look like (spec §10)
    # The whole comparison model; when given, case_insensitive, nulls_first and id_key are
    # read from it (else it is built from them), so the two can never disagree.
    collation: Collation | None = None

    def __post_init__(self) -> None:
        c = self.collation
        if c is None:
            object.__setattr__(self, "collation", Collation(
                case_insensitive=self.case_insensitive, nulls_first=self.nulls_first,
                id_key=self.id_key))
            return
        object.__setattr__(self, "case_insensitive", c.case_insensitive)
        object.__setattr__(self, "nulls_first", c.nulls_first)
        object.__setattr__(self, "id_key", c.id_key)

    @property
    def order(self) -> Collation:
        """The collation (always set after construction)."""
        assert self.collation is not None
        return self.collation


@dataclass(frozen=True, slots=True)
class PushedQuery:
    """The part of a query the backend does: its filter, its order, the fields it must return."""

    filter: Filter = ()
    order_by: tuple[OrderKey, ...] = ()
    fields: tuple[str, ...] | None = None  # None: every field


@dataclass(frozen=True, slots=True)
class Page:
    """One backend call's records; ``more`` says whether the backend has rows after them
    (None when it did not say); ``total`` how many records the pushed filter matches, when
    the answer says so (then no separate count call is needed)."""

    records: list[Record]
    more: bool | None = None
    total: int | None = None


BatchAction: TypeAlias = Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class BatchOp:
    """One write of a native batch: what ``create``/``update``/``delete`` would do alone."""

    action: BatchAction
    record_id: str | None = None  # update, delete
    data: Record | None = None  # create, update
    version: str | None = None  # update: optimistic lock, as ``update(version=...)``


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one op of a batch did: the record as the single call would answer it (``{"id"}``
    for a delete), or the error that call would have raised; ``executed`` is False for ops a
    fail-on-first batch skipped after a failure."""

    record: Record | None = None
    error: Exception | None = None
    executed: bool = True


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What is known of a stored file before its bytes are read."""

    filename: str | None
    content_type: str = "application/octet-stream"
    size: int | None = None


@dataclass(frozen=True, slots=True)
class FileDownload:
    """A file being streamed from the backend; ``chunks`` is valid inside ``open_file``'s block."""

    info: FileInfo
    chunks: AsyncIterator[bytes]


@runtime_checkable
class Connector(Protocol):
    """The read role every connector has: one configured source, for one set of backend
    credentials (one org). The other roles (:class:`Writer`, :class:`BatchWriter`,
    :class:`FileStore`) are optional: a connector without one gets 422 ``unsupported``
    answered by the gateway, so it writes no stubs."""

    name: str
    capabilities: Capabilities

    async def entities(self) -> list[EntityInfo]:
        """Every entity this source exposes, with fields."""
        ...

    async def describe(self, entity: str) -> EntityInfo:
        """One entity's fields; ``NotFound`` for an unknown entity. Called once per request:
        cache it."""
        ...

    def pushable(self, entity: EntityInfo, condition: Condition) -> bool:
        """Whether the backend evaluates this exact condition on ``entity`` (as ``describe``
        gave it) as the gateway would (operator, field kind and value checked); called only
        for operators in ``capabilities``."""
        ...

    async def query(
        self, entity: EntityInfo, pushed: PushedQuery, offset: int, limit: int
    ) -> Page:
        """Records ``offset`` .. ``offset+limit`` of the pushed query on ``entity`` (as
        ``describe`` gave it); ``limit`` is at most ``capabilities.max_page``."""
        ...

    async def count(self, entity: EntityInfo, filter: Filter) -> int:
        """How many records of ``entity`` match the pushed filter (only if
        ``capabilities.counts``)."""
        ...

    async def get(self, entity: str, record_id: str, fields: tuple[str, ...] | None) -> Record:
        """One record; ``NotFound`` when it does not exist."""
        ...

    async def check(self) -> None:
        """Readiness: prove the backend answers and our credentials work."""
        ...

    async def aclose(self) -> None:
        """Release what this connector owns (not the shared session)."""
        ...


@runtime_checkable
class Writer(Protocol):
    """The write role: single-record create, update and delete."""

    async def create(self, entity: str, data: Record) -> Record:
        """Create a record and return it as stored, with its new ``id``."""
        ...

    async def update(
        self, entity: str, record_id: str, data: Record, version: str | None
    ) -> Record:
        """Change the given fields; ``version`` enables optimistic locking (``Conflict``)."""
        ...

    async def delete(self, entity: str, record_id: str) -> None:
        """Delete one record; ``NotFound`` when it does not exist."""
        ...


@runtime_checkable
class BatchWriter(Protocol):
    """The batch role: the backend's native batch write, used by ``/v1/bulk`` for the actions
    ``capabilities.batch_actions`` lists (``native_batch``)."""

    async def write_batch(
        self, entity: str, ops: Sequence[BatchOp], *, fail_on_first: bool = False
    ) -> list[BatchOutcome]:
        """Run ``ops`` (at most ``capabilities.batch_limit``, actions in ``batch_actions``) as
        the backend's native batch call(s), in order, one outcome per op. Raises only when the
        whole call failed (then no op is known to have run, unless the error says it was
        sent). With ``fail_on_first`` (only if ``batch_fail_on_first``), ops after the first
        failure are not run and come back with ``executed=False``."""
        ...


@runtime_checkable
class FileStore(Protocol):
    """The files role: files on record fields, streamed both ways (with ``capabilities.files``)."""

    def open_file(
        self, entity: str, record_id: str, field: str
    ) -> AbstractAsyncContextManager[FileDownload]:
        """Stream the file stored on a record's field (``NotFound`` when there is none); the
        backend response stays open until the block exits."""
        ...

    async def put_file(
        self,
        entity: str,
        record_id: str,
        field: str,
        *,
        filename: str,
        content_type: str,
        chunks: AsyncIterable[bytes],
        size: int | None,
    ) -> FileInfo:
        """Store a file on a record's field, streaming ``chunks`` to the backend (never
        buffering the whole file), replacing what was there."""
        ...

    async def delete_file(self, entity: str, record_id: str, field: str) -> None:
        """Remove the file from a record's field (``NotFound`` when there is none)."""
        ...


@cache
def _plays(cls: type, role: type) -> bool:
    # Roles hold methods only, so the class answers for its instances; cached per class
    # because a Protocol check walks every member.
    return issubclass(cls, role)


def plays(conn: Connector, role: Any) -> bool:
    """Whether ``conn`` has ``role`` (:class:`Writer`, :class:`BatchWriter`, :class:`FileStore`)."""
    return _plays(type(conn), role)


def _lacks(source: str, key: str) -> Unsupported:
    return Unsupported(key, {"source": source})


def writer(conn: Connector, source: str) -> Writer:
    """``conn`` as a :class:`Writer`, or 422 ``unsupported`` for a read-only source."""
    if not plays(conn, Writer):
        raise _lacks(source, "writes_unsupported")
    return cast(Writer, conn)


def batch_writer(conn: Connector, source: str) -> BatchWriter:
    """``conn`` as a :class:`BatchWriter`, or 422 ``unsupported``."""
    if not plays(conn, BatchWriter):
        raise _lacks(source, "batches_unsupported")
    return cast(BatchWriter, conn)


def file_store(conn: Connector, source: str) -> FileStore:
    """``conn`` as a :class:`FileStore`, or 422 ``files_unsupported``."""
    if not plays(conn, FileStore):
        raise _lacks(source, "files_unsupported")
    return cast(FileStore, conn)
