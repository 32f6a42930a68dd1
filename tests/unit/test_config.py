"""Settings: sane offline defaults, one clear line per bad value, secrets never printed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from copilot.config import load_settings
from copilot.errors import ConfigError


def test_no_configuration_means_sandbox_and_deterministic_engine() -> None:
    settings = load_settings()
    assert settings.sandbox and not settings.llm_enabled


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"COPILOT_ODOO_URL": "not a url"}, "COPILOT_ODOO_URL"),
        ({"COPILOT_ODOO_URL": "https://erp.example.com"}, "COPILOT_ODOO_DB"),
        ({"COPILOT_ODOO_URL": "https://erp.example.com", "COPILOT_ODOO_DB": "prod"}, "COPILOT_ODOO_PASSWORD"),
        ({"COPILOT_ODOO_TIMEOUT": "soon"}, "COPILOT_ODOO_TIMEOUT"),
        ({"COPILOT_ODOO_RETRIES": "-1"}, "COPILOT_ODOO_RETRIES"),
        ({"COPILOT_LLM_BASE_URL": "http://127.0.0.1:8080/v1"}, "COPILOT_LLM_MODEL"),
        ({"COPILOT_LOG_LEVEL": "LOUD"}, "COPILOT_LOG_LEVEL"),
    ],
)
def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message


def test_api_key_is_preferred_and_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_ODOO_URL", "https://erp.example.com")
    monkeypatch.setenv("COPILOT_ODOO_DB", "prod")
    monkeypatch.setenv("COPILOT_ODOO_PASSWORD", "pw-123456")
    monkeypatch.setenv("COPILOT_ODOO_API_KEY", "key-abcdef")
    monkeypatch.setenv("COPILOT_LLM_API_KEY", "sk-test-000000")
    settings = load_settings()
    assert settings.odoo_secret is not None and settings.odoo_secret.get_secret_value() == "key-abcdef"
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in ("pw-123456", "key-abcdef", "sk-test-000000"):
        assert secret not in shown


def test_cli_fails_at_start_up_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"COPILOT_ODOO_TIMEOUT": "soon", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", "from copilot.cli import main; main()", "odoo", "late"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "configuration error: COPILOT_ODOO_TIMEOUT: Input should be a valid number, unable to parse string as a number"
    ]
    assert "Traceback" not in proc.stderr
