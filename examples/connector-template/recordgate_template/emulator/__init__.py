"""The template's emulator: an in-memory task backend served over HTTP (imports no gateway code)."""

from recordgate_template.emulator.app import TemplateEmulator, create_app

__all__ = ["TemplateEmulator", "create_app"]
