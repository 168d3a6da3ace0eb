"""The gateway's YAML as strict, frozen pydantic models; each source checked by its type's model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    PlainValidator,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from gateway.config.base import SourceBase, StrictModel
from gateway.config.budgets import BudgetOverrides, Budgets
from gateway.registry import connector_types
from gateway.views.config import ViewSource
from gateway.views.config import problems as view_problems

__all__ = [
    "ALL_ORGS",
    "OPERATIONS",
    "Consumer",
    "GatewayConfig",
    "Operation",
    "OrgConfig",
    "OrgSource",
    "RateLimit",
    "Scopes",
    "ServerConfig",
    "SourceConfig",
    "StateConfig",
    "error_reason",
]

ALL_ORGS = "*"
SOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")

Loc = tuple[str | int, ...]
Operation = Literal["read", "write", "delete", "bulk"]
OPERATIONS: tuple[Operation, ...] = ("read", "write", "delete", "bulk")


def _problem(reason: str) -> PydanticCustomError:
    # The reason goes in as context, not as the template, so braces in it ("${VAR}") stay literal.
    return PydanticCustomError("config", "{reason}", {"reason": reason})


def error_reason(err: ErrorDetails) -> str:
    """A pydantic error in the words a config author needs."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error" and "ctx" in err:
        return str(err["ctx"].get("error", err["msg"]))
    return err["msg"]


def _invalid(problems: Sequence[tuple[Loc, str]]) -> ValidationError:
    """Errors at chosen key paths; pydantic prefixes them with where the validator runs."""
    return ValidationError.from_exception_data(
        "GatewayConfig",
        [InitErrorDetails(type=_problem(reason), loc=loc, input=None) for loc, reason in problems],
    )


class RateLimit(StrictModel):
    """A token bucket: ``burst`` calls at once, refilled at ``requestsPerSecond``."""

    requestsPerSecond: float = Field(gt=0, description="sustained calls per second")
    burst: int | None = Field(
        None, ge=1, description="calls allowed at once; default: requestsPerSecond, at least 1"
    )

    @property
    def size(self) -> int:
        return self.burst if self.burst is not None else max(1, int(self.requestsPerSecond))


class ServerConfig(StrictModel):
    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    maxPageSize: int = Field(1000, ge=1000, description="largest pageSize a consumer may ask")
    maxBulkRequests: int = Field(1000, ge=1, description="entries in one POST /v1/bulk")
    maxBodyBytes: int = Field(10_485_760, ge=1, description="largest request body, in bytes")
    maxScanRecords: int = Field(
        100_000,
        ge=1,
        description="records the gateway may walk to finish a query exactly (residual filters)",
    )
    readyTimeout: float = Field(
        5.0, gt=0, description="seconds a /v1/sources health check waits for each backend"
    )
    requestTimeout: float = Field(
        60.0, gt=0, description="seconds one consumer request may take in all, retries included"
    )
    uploadIdleTimeout: float = Field(
        10.0, gt=0, le=300,
        description="seconds an upload may go without a byte from the consumer before it is "
        "abandoned (400) and its backend call aborted",
    )
    headerTimeout: float = Field(
        10.0, gt=0, le=300,
        description="seconds a connection has to send a request's complete headers (from "
        "opening, or from the first byte of a later request) before it is closed",
    )
    writeTimeout: float = Field(
        30.0, gt=0, le=600,
        description="seconds an answer (a download included) may wait on a consumer that takes "
        "none of it before the connection is closed and the work behind it stopped",
    )
    drainTimeout: float = Field(
        25.0, ge=0, le=3600,
        description="seconds a stopping gateway (SIGTERM) lets requests in flight finish before "
        "it cancels reads and stops bulk calls between entries; writes already sent finish",
    )
    logLevel: Literal["debug", "info", "warning", "error"] = "info"
    rateLimit: RateLimit | None = Field(
        None, description="default rate limit of every consumer without its own"
    )
    budgets: Budgets = Field(
        default_factory=Budgets,
        description="what one request and one consumer may make the gateway do (issue 16)",
    )

    @field_validator("logLevel", mode="before")
    @classmethod
    def _lowercase_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class Scopes(StrictModel):
    """What a consumer may do; each list left out allows everything of its kind."""

    sources: list[str] | None = Field(None, description="sources it may use")
    entities: list[str] | None = Field(
        None, description='"source/entity" it may use; "*" matches any run of characters'
    )
    operations: list[Operation] | None = Field(
        None, description="read, write (create, update, file upload), delete, bulk"
    )

    @field_validator("entities")
    @classmethod
    def _patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            src, sep, ent = pattern.partition("/")
            if not sep or not src or not ent or "/" in ent:
                raise _problem(f'{pattern!r} is not of the form "source/entity" (or "source/*")')
        return value


class Consumer(StrictModel):
    """A downstream app: its API key (plain or as SHA-256), the orgs it may act for, its scopes
    and its rate limit."""

    name: str = Field(min_length=1)
    apiKey: SecretStr | None = None
    apiKeySha256: str | None = Field(None, description="hex SHA-256 of the key")
    orgs: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description='orgs this consumer may act for; "*" means every org'
    )
    sources: list[str] | None = Field(
        None, description="sources it may use; default: all (same as scopes.sources)"
    )
    scopes: Scopes = Field(default_factory=Scopes)
    rateLimit: RateLimit | None = Field(None, description="default: server.rateLimit")
    budgets: BudgetOverrides = Field(
        default_factory=BudgetOverrides, description="this consumer's own budgets, key by key"
    )

    @field_validator("apiKey")
    @classmethod
    def _key_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty key (say, from ${KEY:-}) would let an empty bearer token in.
        if value is not None and not value.get_secret_value().strip():
            raise _problem("must not be empty")
        return value

    @field_validator("apiKeySha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and not SHA256_HEX.match(value):
            raise _problem("must be 64 hexadecimal characters (the SHA-256 of the key)")
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        if (self.apiKey is None) == (self.apiKeySha256 is None):
            raise _problem("give exactly one of apiKey or apiKeySha256")
        if self.sources is not None and self.scopes.sources is not None:
            raise _problem("give the sources in scopes.sources only (sources is its older name)")
        return self

    @property
    def key_sha256(self) -> str:
        """Hex SHA-256 of the key, whichever way the config gave it."""
        if self.apiKey is not None:
            return hashlib.sha256(self.apiKey.get_secret_value().encode()).hexdigest()
        assert self.apiKeySha256 is not None  # guaranteed by _one_key
        return self.apiKeySha256

    def allows_org(self, org: str) -> bool:
        return ALL_ORGS in self.orgs or org in self.orgs

    @property
    def source_scope(self) -> list[str] | None:
        """The sources it may use (None: all), whichever key gave them."""
        return self.scopes.sources if self.scopes.sources is not None else self.sources

    def allows_source(self, source: str) -> bool:
        """May use this source: listed (or no list), and some entity scope names it."""
        listed = self.source_scope
        if listed is not None and source not in listed:
            return False
        patterns = self.scopes.entities
        return patterns is None or any(
            fnmatchcase(source, p.partition("/")[0]) for p in patterns
        )

    def allows_entity(self, source: str, entity: str) -> bool:
        patterns = self.scopes.entities
        return self.allows_source(source) and (
            patterns is None or any(fnmatchcase(f"{source}/{entity}", p) for p in patterns)
        )

    def allows_operation(self, operation: Operation) -> bool:
        ops = self.scopes.operations
        return ops is None or operation in ops


class OrgSource(StrictModel):
    """One org's override of a source: auth keys replace the source's own, key by key."""

    auth: dict[str, Any] = Field(default_factory=dict)


class OrgConfig(StrictModel):
    sources: dict[str, OrgSource] = Field(default_factory=dict)


def _validate_source(value: Any) -> SourceBase | ViewSource:
    """Pick the source's model by its ``type`` from the registry (a discriminated union);
    ``type: view`` is the gateway's own (spec §12, gateway/views/config.py)."""
    if isinstance(value, SourceBase | ViewSource):
        return value
    if not isinstance(value, dict):
        raise _problem("a source must be a mapping with a `type` key")
    types = connector_types()
    known = ", ".join(sorted(types)) or "none"
    kind = value.get("type")
    if kind == "view":
        return ViewSource.model_validate(value)
    if kind is None:
        raise _invalid([(("type",), f"required key is missing (known source types: {known})")])
    if not isinstance(kind, str) or kind not in types:
        raise _invalid([(("type",), f"unknown source type {kind!r}; installed: {known} "
                                    "(`gateway connectors` lists them with their packages)")])
    return types[kind].config_model.model_validate(value)


# The union of every registered connector's config model, discriminated on ``type``; built from
# the registry at validation time so third-party connectors need no change here.
SourceConfig = Annotated[SourceBase | ViewSource, PlainValidator(_validate_source)]


def _merge_auth(base: SourceBase | ViewSource, override: OrgSource) -> SourceBase:
    """The source's config with an org's auth keys laid over its own (validated)."""
    auth = getattr(base, "auth", None)
    if not isinstance(base, SourceBase) or not isinstance(auth, BaseModel):
        raise _invalid([(("auth",), f"source type {base.type!r} takes no auth")])
    data = base.model_dump()
    data["auth"] = {**auth.model_dump(), **override.auth}
    return type(base).model_validate(data)


def _collect_secrets(value: Any, out: list[str]) -> None:
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if secret and secret not in out:
            out.append(secret)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect_secrets(getattr(value, name), out)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_secrets(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, out)


class StateConfig(StrictModel):
    """Where shared state lives: idempotency records, rate-limit buckets and record locks."""

    backend: Literal["memory", "redis"] = Field(
        "memory", description="memory: this process only; redis: shared by every replica"
    )
    url: SecretStr | None = Field(
        None, description="redis://[:password@]host:port/db (rediss:// for TLS)"
    )
    prefix: str = Field("recordgate:", description="prefix of every key the gateway writes")
    maxBytes: int = Field(
        64 * 1024 * 1024, ge=1024,
        description="memory backend: bytes kept at most; when full, new entries are refused "
        "(503), never made room for by dropping unexpired ones",
    )
    idempotencyKeysPerConsumer: int = Field(
        20_000, ge=1,
        description="Idempotency-Key records one consumer may hold unexpired (24 h each); a "
        "new key past it is 429, so one consumer cannot fill the store for the others",
    )
    recordLockTtl: float = Field(
        15.0, ge=1, le=300,
        description="seconds a record lock outlives a replica that died holding it (holders "
        "renew it every third of this while they work)",
    )
    secretKey: SecretStr | None = Field(
        None,
        description="key that encrypts backend tokens kept in the shared store (AES-GCM), so "
        "replicas log in once per credential; required with the redis backend; give it as "
        "${VAR}, never in the file; changing it only makes the replicas log in again",
    )
    recordLockWait: float = Field(
        10.0, ge=0, le=300,
        description="seconds a write waits for another write on the same record to finish "
        "before it is refused (409 conflict, Retry-After); the request's deadline bounds it too",
    )

    @model_validator(mode="after")
    def _redis_url(self) -> Self:
        if self.backend == "redis":
            if self.url is None:
                raise _problem("the redis backend needs a url (redis://host:6379/0)")
            if urlsplit(self.url.get_secret_value()).scheme not in ("redis", "rediss", "unix"):
                raise _problem("url must start with redis://, rediss:// or unix://")
            if self.secretKey is None:
                raise _problem("the redis backend needs state.secretKey (at least 16 characters, "
                               "from ${VAR}): backend tokens are shared through Redis encrypted "
                               "with it")
        if self.secretKey is not None and len(self.secretKey.get_secret_value()) < 16:
            raise _problem("state.secretKey must have at least 16 characters")
        return self

    def workers_problem(self, workers: int) -> str | None:
        """Why ``gateway serve --workers N`` cannot run on this state (None: it can)."""
        if workers > 1 and self.backend == "memory":
            return (f"--workers {workers} needs state.backend: redis; memory state lives in one "
                    "process, so each worker would keep its own idempotency keys, rate limits "
                    "and record locks")
        return None

    def url_secrets(self) -> list[str]:
        """The URL, the password inside it and the secretKey, for redaction."""
        found = [] if self.secretKey is None else [self.secretKey.get_secret_value()]
        if self.url is None:
            return found
        raw = self.url.get_secret_value()
        password = urlsplit(raw).password
        return [*found, raw, password] if password else [*found, raw]


class GatewayConfig(StrictModel):
    """The whole config file, parsed once at startup and passed down."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    consumers: list[Consumer] = Field(min_length=1)
    sources: dict[str, SourceConfig] = Field(min_length=1)
    orgs: dict[str, OrgConfig] = Field(default_factory=dict)
    state: StateConfig = Field(default_factory=StateConfig)

    # (org, source) -> that source's config with the org's auth merged in
    _merged: dict[tuple[str, str], SourceBase] = PrivateAttr(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _source_names(
        cls, sources: dict[str, SourceBase | ViewSource]
    ) -> dict[str, SourceBase | ViewSource]:
        bad = [name for name in sources if not SOURCE_NAME.match(name)]
        if bad:
            raise _invalid(
                [((n,), "a source name may use only letters, digits, '_' and '-'") for n in bad]
            )
        return sources

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        names: dict[str, int] = {}
        digests: dict[str, int] = {}
        for i, consumer in enumerate(self.consumers):
            if consumer.name in names:
                problems.append(
                    (("consumers", i, "name"), f"duplicate consumer name {consumer.name!r}")
                )
            names.setdefault(consumer.name, i)
            field = "apiKey" if consumer.apiKey is not None else "apiKeySha256"
            first = digests.setdefault(consumer.key_sha256, i)
            if first != i:
                problems.append((("consumers", i, field), f"same API key as consumers[{first}]"))
            for j, source in enumerate(consumer.sources or ()):
                if source not in self.sources:
                    problems.append((("consumers", i, "sources", j), f"no source named {source!r}"))
            for j, source in enumerate(consumer.scopes.sources or ()):
                if source not in self.sources:
                    problems.append(
                        (("consumers", i, "scopes", "sources", j), f"no source named {source!r}")
                    )
            for j, pattern in enumerate(consumer.scopes.entities or ()):
                src = pattern.partition("/")[0]
                if not any(fnmatchcase(name, src) for name in self.sources):
                    problems.append((("consumers", i, "scopes", "entities", j),
                                     f"no source matches {src!r}"))
        problems.extend(self._view_problems())
        for org, org_config in self.orgs.items():
            for name, override in org_config.sources.items():
                loc: Loc = ("orgs", org, "sources", name)
                if name not in self.sources:
                    known = ", ".join(sorted(self.sources))
                    problems.append((loc, f"no source named {name!r} (sources: {known})"))
                    continue
                try:
                    self._merged[org, name] = _merge_auth(self.sources[name], override)
                except ValidationError as exc:
                    problems.extend(
                        ((*loc, *err["loc"]), error_reason(err))
                        for err in exc.errors(include_url=False, include_input=False)
                    )
        if problems:
            raise _invalid(problems)
        return self

    def _view_problems(self) -> list[tuple[Loc, str]]:
        """What a view's members show without describing them: each names a configured source
        that is not itself a view (the entities and fields are checked once described, at
        startup: gateway/sources.py)."""
        found: list[tuple[Loc, str]] = []
        described = {n: None for n in self.sources}
        for name, view in self.views().items():
            found.extend(view_problems(name, view, described))
            for ename, entity in view.entities.items():
                for i, member in enumerate(entity.from_):
                    if isinstance(self.sources.get(member.source), ViewSource) and (
                            member.source != name):
                        found.append((("sources", name, "entities", ename, "from", i, "source"),
                                      f"{member.source!r} is a view; a view's members are "
                                      "sources of other types"))
        return found

    def views(self) -> dict[str, ViewSource]:
        """The ``type: view`` sources by name."""
        return {n: s for n, s in self.sources.items() if isinstance(s, ViewSource)}

    def backends(self) -> dict[str, SourceBase]:
        """The sources that reach a backend (every type but ``view``) by name."""
        return {n: s for n, s in self.sources.items() if isinstance(s, SourceBase)}

    def source_config(self, name: str, org: str | None = None) -> SourceBase:
        """The source's config as ``org`` sees it (its own auth merged in); KeyError if unknown
        (or a view: it has no config of a backend)."""
        base = self.backends()[name]
        if org is None or name not in (org_config := self.orgs.get(org, OrgConfig())).sources:
            return base
        merged = self._merged.get((org, name))
        if merged is None:
            merged = self._merged[org, name] = _merge_auth(base, org_config.sources[name])
        return merged

    def secrets(self) -> list[str]:
        """Every secret value in the config (API keys, passwords, client secrets), for redaction."""
        found: list[str] = []
        _collect_secrets(self.consumers, found)
        found.extend(v for v in self.state.url_secrets() if v not in found)
        _collect_secrets(self.sources, found)
        for org, org_config in self.orgs.items():
            for name in org_config.sources:
                _collect_secrets(self.source_config(name, org), found)
        return found
