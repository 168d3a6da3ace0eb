"""Shared by the emulators only: fault injection, request log, loopback server."""

from connectors.emulation.calls import Call, CallLog, log_middleware
from connectors.emulation.faults import Faults, fault_middleware
from connectors.emulation.server import run, start

__all__ = ["Call", "CallLog", "Faults", "fault_middleware", "log_middleware", "run", "start"]
