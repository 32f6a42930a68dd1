"""Label descriptions for helpdesk triage (cold start and the LLM)."""
