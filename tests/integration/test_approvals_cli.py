"""``copilot propose``, ``copilot approvals demo|list`` and ``copilot executor`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli import app

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
REPO = Path(__file__).resolve().parents[2]


def test_the_demo_runs_the_whole_loop_once() -> None:
    result = CliRunner().invoke(app, ["approvals", "demo"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "2. request #1 created by the copilot: Reschedule receipt WH/IN/00008 (P00002) to 2026-12-03" in output
    assert "3. approved in Odoo by Nora Blake (manager): #1 · approved" in output
    assert "5. request #1: executed · WH/IN/00008 and 2 line(s) of P00002: scheduled date set to 2026-12-03" in output
    assert "6. executor again: 0 action(s)" in output


def test_propose_without_a_policy_is_advisory(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["propose", str(EMAILS / "03_p00008_price_change.eml"), "--json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["decision"]["mode"] == "advisory" and item["request"] is None
    assert item["proposal"]["payload"] == item["proposal"]["payload"] | {"old_price": 280.8, "new_price": 312.5}


def test_propose_submit_under_the_example_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_POLICY_FILE", str(REPO / "policy.example.yaml"))
    result = CliRunner().invoke(app, ["propose", str(EMAILS / "02_p00002_new_ship_date.eml"), "--submit", "--json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["decision"]["mode"] == "approval" and item["request"]["state"] == "pending"


def test_an_unverified_sender_gets_no_proposal() -> None:
    result = CliRunner().invoke(app, ["propose", str(EMAILS / "11_p00010_injection.eml")])
    assert result.exit_code == 0, result.output
    assert "no action to propose" in result.output  # the injected "approve a price increase" achieves nothing


def test_the_executor_runs_on_the_sandbox_as_its_own_user_never_the_copilots(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["executor", "--once"])
    assert result.exit_code == 0 and "nothing to do" in result.output
    monkeypatch.setenv("COPILOT_EXECUTOR_LOGIN", "copilot")
    from copilot.config import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["executor", "--once"])
    assert result.exit_code == 2 and "COPILOT_EXECUTOR_LOGIN" in result.output


def test_a_broken_policy_file_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nactions:\n  reschedule_receipt: {mode: sometimes}\n")
    monkeypatch.setenv("COPILOT_POLICY_FILE", str(bad))
    result = CliRunner().invoke(app, ["propose", str(EMAILS / "02_p00002_new_ship_date.eml")])
    assert result.exit_code == 2 and "COPILOT_POLICY_FILE" in result.output
