"""Shared by the emulators only: fault injection, request log, app wiring, loopback server."""

from connectors.emulation.base import EmulatorBase, build_emulator_app
from connectors.emulation.calls import Call, CallLog, log_middleware
from connectors.emulation.clocks import stepping
from connectors.emulation.commits import CommitDelay, commit_wait
from connectors.emulation.faults import Faults, fault_middleware
from connectors.emulation.server import run, start

__all__ = ["Call", "CallLog", "CommitDelay", "EmulatorBase", "Faults", "build_emulator_app",
           "commit_wait", "fault_middleware", "log_middleware", "run", "start", "stepping"]
