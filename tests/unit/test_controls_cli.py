"""``copilot controls list|run|schedule`` as a user runs them on the sandbox (data in the test's own data dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_run_prints_the_ranked_findings_with_their_reasons_then_list_shows_the_run(runner: CliRunner) -> None:
    result = runner.invoke(app, ["controls", "run", "late_pos"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("P00005") < out.index("P00009") < out.index("P00007")  # 6, 3 and 1 day(s) late
    assert "P00009 from Gemini" in out and "late_pos: ranked findings" in out  # the reason beside it
    assert "6 found; sent: 6 new, 0 worsened; 0 closed" in result.stderr
    again = runner.invoke(app, ["controls", "run", "late_pos"])
    assert "sent: 0 new, 0 worsened" in again.stderr  # the same exceptions: nothing sent twice
    listed = runner.invoke(app, ["controls", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["late_pos"]["open"] == 6 and rows["late_pos"]["last_run"]["findings"] == 6
    assert rows["credit_hold"]["last_run"] is None and rows["late_pos"]["schedule"] == "0 7 * * 1-5"
    table = runner.invoke(app, ["controls", "list"])
    assert "late_pos" in table.stdout and "never" in table.stdout


def test_run_json_is_the_control_run(runner: CliRunner) -> None:
    result = runner.invoke(app, ["controls", "run", "credit_hold", "--json", "--no-notify"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["control"] == "credit_hold" and run["notified"] is False and run["odoo_round_trips"] == 3
    assert [f["key"] for f in run["findings"]] == ["sale.order:1", "sale.order:30"]
    assert all(f["reason"] for f in run["findings"]) and [d["change"] for d in run["deliveries"]] == ["new", "new"]


def test_an_unknown_control_is_one_line_naming_the_known_ones(runner: CliRunner) -> None:
    result = runner.invoke(app, ["controls", "run", "late_po"])
    assert result.exit_code == 1
    assert "no control named 'late_po' (known: late_pos, orders_at_risk, ticket_aging" in result.output
    assert "Traceback" not in result.output


def test_a_bad_controls_file_is_a_configuration_error(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "controls.yaml"
    bad.write_text("controls: {late_pos: {schedule: 'at seven'}}\n", encoding="utf-8")
    monkeypatch.setenv("COPILOT_CONTROLS_FILE", str(bad))
    result = runner.invoke(app, ["controls", "list"])
    assert result.exit_code == 2 and "controls.late_pos.schedule" in result.output


def test_schedule_prints_the_next_run_times(runner: CliRunner) -> None:
    result = runner.invoke(app, ["controls", "schedule", "--json", "-n", "2"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["runs_in"] == "copilot serve runs them" and plan["timezone"] == "UTC"
    late = plan["controls"]["late_pos"]
    assert late["schedule"] == "0 7 * * 1-5" and len(late["next"]) == 2
    assert all(t.endswith("07:00:00+00:00") for t in late["next"])
