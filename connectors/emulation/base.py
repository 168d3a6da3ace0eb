"""What every emulator shares: its fault switchboard, request log, token expiry and app wiring."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from connectors.emulation.calls import CallLog, log_middleware
from connectors.emulation.commits import CommitDelay
from connectors.emulation.faults import Faults, fault_middleware

__all__ = ["EmulatorBase", "build_emulator_app"]


class _Tokens(Protocol):
    def expire_all(self) -> None: ...


TokensT = TypeVar("TokensT", bound=_Tokens)
EmulatorT = TypeVar("EmulatorT", bound="EmulatorBase[Any]")


class EmulatorBase(Generic[TokensT]):
    """Faults, the call log and the knobs tests use on them; the emulator sets `tokens`."""

    tokens: TokensT

    def __init__(self) -> None:
        self.faults = Faults()
        self.log = CallLog()
        # Stamp-then-commit delay for writes (see commits.py); None: writes commit on arrival.
        self.commit_delay: CommitDelay | None = None
        # Looked up when fired, so the emulator may build its token server after this.
        self.faults.on_expire_tokens(self.expire_tokens)

    def calls(self, method: str, path: str) -> int:
        """How many requests had this method and exact path (no query string)."""
        return self.log.count(method, path)

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401, as the backend does once expired."""
        self.tokens.expire_all()

    def reset_log(self) -> None:
        self.log.clear()

    def server_time(self) -> float | None:
        """The backend clock as epoch seconds, sent as every answer's `Date` header; None (the
        default) leaves aiohttp's own, real-time header."""
        return None


def build_emulator_app(
    emulator: EmulatorT,
    key: web.AppKey[EmulatorT],
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    *,
    client_max_size: int,
    error_body: Callable[[int], bytes],
    maintenance_answer: Callable[[web.Request], web.StreamResponse | None],
) -> web.Application:
    """The emulator's app: every request logged, then faulted, then sent to `handler`.

    The log is outermost so faulted and dropped requests are recorded too; `key` lets tests
    find the emulator behind an app.
    """
    app = web.Application(client_max_size=client_max_size, middlewares=[
        log_middleware(emulator.log),
        fault_middleware(emulator.faults, error_body, maintenance_answer),
    ])
    app[key] = emulator
    app.router.add_route("*", "/{tail:.*}", handler)

    async def date_header(_request: web.Request, response: web.StreamResponse) -> None:
        moment = emulator.server_time()
        if moment is not None:
            response.headers["Date"] = formatdate(moment, usegmt=True)

    app.on_response_prepare.append(date_header)
    return app
