"""Views (spec §12): one entity federating entities of other sources, answered exactly."""
