"""Deterministic scorers: field-level precision/recall/F1 for extractions, classification metrics."""
