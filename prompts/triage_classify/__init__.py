"""Prompt templates of the helpdesk triage skill."""
