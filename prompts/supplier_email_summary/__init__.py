"""Prompt templates of the supplier-email summary skill."""
