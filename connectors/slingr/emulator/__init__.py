"""Slingr runtime REST API emulator: Slingr's wire format on loopback; no gateway/ imports."""

from connectors.slingr.emulator.app import EMULATOR_KEY, SlingrEmulator, create_app

__all__ = ["EMULATOR_KEY", "SlingrEmulator", "create_app"]
