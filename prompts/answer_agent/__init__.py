"""Prompt of the buyer-question agent (LLM path)."""
