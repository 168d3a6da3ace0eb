"""Backend connectors, each in its own package; emulators live beside them and import nothing from gateway/."""
