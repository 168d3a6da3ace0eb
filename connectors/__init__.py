"""Backend connectors, one package each; their emulators import nothing from gateway/."""
