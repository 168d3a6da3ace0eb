"""The contract's expected answers; the oracle ships with the kit (``gateway.testing.oracle``)."""

from gateway.testing.oracle import expected

__all__ = ["expected"]
