"""Prompt of the optional LLM judge used by evals (tone and helpfulness)."""
