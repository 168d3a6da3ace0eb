"""recordgate: one Records API in front of several SaaS record backends."""

__version__ = "0.1.0"
