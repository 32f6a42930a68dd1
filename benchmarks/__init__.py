"""Commands that print performance figures (never timed assertions in tests)."""
