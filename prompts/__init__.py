"""Versioned prompt templates (``<name>/v<N>.yaml``), shipped as package data; see ``copilot.prompts``."""
