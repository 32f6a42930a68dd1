"""Prompt templates of the reply-draft skill."""
