"""`gateway serve --workers N`: a small supervisor running N `gateway serve` processes on one port.

Process model: each worker is a whole `gateway serve` (its own event loop, app, sources and
``GatewayRunner``) listening with ``SO_REUSEPORT`` on the same host and port. The kernel spreads
new connections over the workers' sockets by a hash of each connection's addresses, so no
process accepts for the others, there is no thundering herd on one socket, and a keep-alive
connection stays with the worker that accepted it.

Why not gunicorn with aiohttp's ``GunicornWebWorker``: it serves through its own runner, not
``GatewayRunner``, so the parser bounds, the header and write timeouts and the drain (writes
already sent always finish, a second SIGTERM only ends the drain window) would have to be
rebuilt inside a gunicorn worker class; and gunicorn's master kills workers once its
``graceful_timeout`` passes, writes in flight included. Supervising is the part left here:
about a hundred lines, no new dependency.

The supervisor:

* holds the port (bound with ``SO_REUSEPORT``, never listening: connections only go to
  listening sockets), so ``--port 0`` gives every worker the same port and a port another
  program holds fails before any worker starts;
* starts the workers in a process group of their own, so a terminal's Ctrl+C reaches the
  supervisor alone and each worker sees exactly the signals forwarded to it;
* forwards SIGTERM and SIGINT to every worker as SIGTERM: the first starts each worker's drain,
  a second ends their drain windows (writes already sent still finish), as with one process;
* exits once every worker has: 0 when each exited 0. A worker that ends on its own (a crash, a
  port it cannot bind) stops the others and the supervisor exits 1, so whatever runs it
  (systemd, compose's restart policy, Kubernetes) sees the unit fail and restarts it whole;
* keeps each worker's stdin a pipe it never writes to: when the supervisor dies (SIGKILL), the
  pipe closes and each worker stops as on SIGTERM instead of serving the port as an orphan;
* gives the workers ``PROMETHEUS_MULTIPROC_DIR``, a fresh directory removed at the end, where
  ``gateway/observability/metrics.py`` keeps the values ``/metrics`` adds up.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
from asyncio.subprocess import Process
from dataclasses import dataclass, field

from prometheus_client.multiprocess import mark_process_dead

from gateway import __version__

__all__ = ["MULTIPROC_ENV", "WORKER_FLAG", "Supervisor", "reserve_port"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The hidden `gateway serve` flag that makes a process a worker (gateway/cli.py).
WORKER_FLAG = "--worker"


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound (not listening) to host:port with SO_REUSEPORT; OSError when taken."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class Supervisor:
    """N workers of ``gateway serve --config CONFIG`` on host:port; :meth:`run` until they end."""

    config: str
    host: str
    port: int
    workers: int
    procs: list[Process] = field(default_factory=list)
    stopping: bool = False

    def _argv(self, port: int) -> list[str]:
        return [sys.executable, "-m", "gateway", "serve", "--config", self.config,
                "--host", self.host, "--port", str(port), WORKER_FLAG]

    def _signalled(self) -> None:
        if self.stopping:
            _err("gateway: telling the workers to stop now; writes already sent finish first")
        self.stopping = True
        self._terminate()

    def _terminate(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)

    async def run(self) -> int:
        """Start the workers, forward stop signals, wait for all; the exit code."""
        held = reserve_port(self.host, self.port)  # OSError: cannot listen
        port = held.getsockname()[1]
        metrics_dir = tempfile.mkdtemp(prefix="recordgate-metrics-")
        env = {**os.environ, MULTIPROC_ENV: metrics_dir}
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._signalled)
        try:
            for _ in range(self.workers):
                proc = await asyncio.create_subprocess_exec(
                    *self._argv(port), stdin=asyncio.subprocess.PIPE, env=env, process_group=0)
                self.procs.append(proc)
                if self.stopping:
                    proc.send_signal(signal.SIGTERM)
            pids = ", ".join(str(p.pid) for p in self.procs)
            _err(f"gateway {__version__}: {self.workers} workers on http://{self.host}:{port} "
                 f"(pids {pids})")
            return await self._wait(metrics_dir)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            for proc in self.procs:  # only when cancelled: _wait returns once all have ended
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            held.close()
            shutil.rmtree(metrics_dir, ignore_errors=True)

    async def _wait(self, metrics_dir: str) -> int:
        waits = {asyncio.ensure_future(proc.wait()): proc for proc in self.procs}
        pending, failed = set(waits), False
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for ended in done:
                proc = waits[ended]
                # Its live gauges leave the sums; its counters stay (counts never drop).
                mark_process_dead(proc.pid, metrics_dir)  # type: ignore[no-untyped-call]
                code = proc.returncode
                # Killed by our own SIGTERM before it could set up its handlers: it served
                # nothing yet, so nothing was cut.
                clean = code == 0 or (self.stopping and code == -signal.SIGTERM)
                if not self.stopping:
                    _err(f"gateway: worker {proc.pid} exited ({code}) on its own; "
                         "stopping the others")
                    self.stopping = True
                    self._terminate()
                    failed = True
                elif not clean:
                    _err(f"gateway: worker {proc.pid} exited ({code})")
                    failed = True
        return 1 if failed else 0
