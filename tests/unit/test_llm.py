"""Building the chat model from settings."""

from __future__ import annotations

import pytest

from copilot.config import load_settings
from copilot.errors import ConfigError
from copilot.llm import build_chat_model, describe_engine


def test_no_model_means_the_deterministic_engine() -> None:
    settings = load_settings()
    assert build_chat_model(settings) is None
    assert describe_engine(settings) == "LLM: none configured: deterministic engine"


def test_local_server_gets_the_settings_and_a_placeholder_key() -> None:
    settings = load_settings(llm_base_url="http://127.0.0.1:8089/v1", llm_model="smollm2", llm_max_tokens=700)
    model = build_chat_model(settings)
    assert model is not None
    assert model.model_name == "smollm2"  # type: ignore[attr-defined]
    assert model.max_tokens == 700  # type: ignore[attr-defined]
    assert str(model.openai_api_base).startswith("http://127.0.0.1:8089")  # type: ignore[attr-defined]
    assert model.openai_api_key.get_secret_value() == "not-needed"  # type: ignore[attr-defined]


def test_openai_itself_falls_back_to_openai_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    model = build_chat_model(load_settings(llm_model="gpt-4o-mini"))
    assert model is not None
    assert model.openai_api_key.get_secret_value() == "sk-from-the-environment"  # type: ignore[attr-defined]
    assert "sk-from-the-environment" not in repr(model)


def test_the_deadline_covers_every_attempt() -> None:
    settings = load_settings(llm_model="m", llm_timeout=10, llm_max_retries=2)
    assert settings.llm_deadline >= 30


def test_openai_itself_without_any_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        build_chat_model(load_settings(llm_model="gpt-4o-mini"))
    message = str(caught.value)
    assert message.startswith("COPILOT_LLM_API_KEY:") and "COPILOT_LLM_MODEL=gpt-4o-mini" in message
    assert "\n" not in message
