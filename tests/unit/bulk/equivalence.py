"""The bulk equivalence property; it ships with the kit (``gateway.testing.equivalence``)."""

from gateway.testing.equivalence import Op, Target, entry, ops_strategy, run_both

__all__ = ["Op", "Target", "entry", "ops_strategy", "run_both"]
