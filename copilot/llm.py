"""Builds the chat model from settings: any OpenAI-compatible endpoint, or none (the deterministic engine).

This is the only module that imports ``langchain_openai``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import SecretStr

from copilot.config import Settings
from copilot.errors import ConfigError

if TYPE_CHECKING:  # LangChain costs half a second to import: only when a model is configured
    from langchain_core.language_models import BaseChatModel

__all__ = ["build_chat_model", "describe_engine"]


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or ``None`` when no model is configured; ``ConfigError`` when it cannot work."""
    if not settings.llm_enabled:
        return None
    api_key = settings.llm_api_key
    if api_key is None and settings.llm_base_url is not None:
        # Local servers (llama.cpp, vLLM, Ollama) ignore the key, but the client insists on one.
        # Without a base URL (OpenAI itself) the client falls back to OPENAI_API_KEY.
        api_key = SecretStr("not-needed")
    if api_key is None and not os.environ.get("OPENAI_API_KEY"):
        raise ConfigError(
            f"COPILOT_LLM_API_KEY: required with COPILOT_LLM_MODEL={settings.llm_model} on OpenAI's endpoint "
            "(or set COPILOT_LLM_BASE_URL for a local server, or unset COPILOT_LLM_MODEL for the deterministic engine)"
        )
    import openai
    from langchain_openai import ChatOpenAI

    try:
        return ChatOpenAI(
            model=settings.llm_model or "",
            base_url=str(settings.llm_base_url) if settings.llm_base_url else None,
            api_key=api_key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
        )
    except openai.OpenAIError as exc:  # the client's own checks, worded for its own variables
        raise ConfigError(f"COPILOT_LLM_*: the OpenAI client refused these settings: {exc}") from None


def describe_engine(settings: Settings) -> str:
    """One line telling the user which engine runs."""
    if not settings.llm_enabled:
        return "LLM: none configured: deterministic engine"
    where = str(settings.llm_base_url) if settings.llm_base_url else "OpenAI"
    return f"LLM: {settings.llm_model} at {where} (deterministic engine as fallback)"
