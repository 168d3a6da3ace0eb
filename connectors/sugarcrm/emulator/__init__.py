"""SugarCRM v10 emulator: Sugar's wire format over loopback; imports nothing from gateway/."""

from connectors.sugarcrm.emulator.app import EMULATOR_KEY, SugarEmulator, create_app

__all__ = ["EMULATOR_KEY", "SugarEmulator", "create_app"]
