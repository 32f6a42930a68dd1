"""Builds the chat model from settings: any OpenAI-compatible endpoint, or none (the deterministic engine).

This is the only module that imports ``langchain_openai``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from copilot.config import Settings
from copilot.errors import ConfigError

if TYPE_CHECKING:  # LangChain costs half a second to import: only when a model is configured
    from langchain_core.language_models import BaseChatModel

    from copilot.observability import CopilotMetrics

__all__ = ["build_chat_model", "describe_engine", "llm_callbacks"]


def llm_callbacks(settings: Settings, metrics: CopilotMetrics | None) -> list[Any]:
    """The callbacks that record each call's latency and tokens in ``metrics`` (none without a model)."""
    if metrics is None or not settings.llm_enabled:
        return []
    from copilot.observability.llm import LLMMetricsCallback

    return [LLMMetricsCallback(metrics, settings.llm_model or "")]


def build_chat_model(settings: Settings, *, callbacks: Sequence[Any] = ()) -> BaseChatModel | None:
    """The configured chat model, or ``None`` when no model is configured; ``ConfigError`` when it cannot work.

    ``callbacks`` are LangChain callback handlers attached to every call (``llm_callbacks``: metrics).
    """
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
            callbacks=list(callbacks) or None,
        )
    except openai.OpenAIError as exc:  # the client's own checks, worded for its own variables
        raise ConfigError(f"COPILOT_LLM_*: the OpenAI client refused these settings: {exc}") from None


def describe_engine(settings: Settings) -> str:
    """One line telling the user which engine runs."""
    if not settings.llm_enabled:
        return "LLM: none configured: deterministic engine"
    where = str(settings.llm_base_url) if settings.llm_base_url else "OpenAI"
    return f"LLM: {settings.llm_model} at {where} (deterministic engine as fallback)"
