"""Normalized queries: model, parsing, planning, evaluation and paging."""
