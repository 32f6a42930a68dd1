"""Regression evals: datasets (JSONL), scorers, runner, baselines, reports (not built yet)."""
