"""`gateway demo` runs on the memory state store and says what that costs on a restart."""

from __future__ import annotations

import signal
from typing import Any

from gateway.config.model import StateConfig
from gateway.state import restart_warning


def test_demo_warns_that_its_keys_die_with_it(spawn: Any, free_port: int,
                                              wait_listening: Any) -> None:
    proc = spawn("demo", "--port", str(free_port))
    wait_listening(proc, free_port)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "state.backend is memory" in err and "lost when it stops" in err
    assert "state.backend: redis" in err


def test_no_warning_with_redis() -> None:
    shared: Any = StateConfig.model_validate({"backend": "redis",
                                              "url": "redis://127.0.0.1:6379/0",
                                              "secretKey": "x" * 16})
    assert restart_warning(shared) is None
    assert restart_warning(StateConfig()) is not None
