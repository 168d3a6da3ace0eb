"""UiPath Data Service emulator: its wire format over loopback; imports nothing from gateway/."""

from connectors.dataservice.emulator.app import EMULATOR_KEY, DataServiceEmulator, create_app

__all__ = ["EMULATOR_KEY", "DataServiceEmulator", "create_app"]
