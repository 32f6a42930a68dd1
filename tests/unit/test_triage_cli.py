"""``copilot triage train|report|classify`` as a user runs them on the sandbox."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from copilot.cli import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_train_then_report_prints_macro_f1_and_coverage_reproducibly(runner: CliRunner) -> None:
    trained = runner.invoke(app, ["triage", "train"])
    assert trained.exit_code == 0, trained.output
    assert "trained model" in trained.output and "38 labelled tickets" in trained.output
    assert "too few tickets to learn Hardware / Laptops (1)" in trained.output

    report = runner.invoke(app, ["triage", "report"])
    assert report.exit_code == 0, report.output
    assert "split: 5-fold stratified cross-validation (seed 42)" in report.output
    assert "fewer than 200 labelled tickets" in report.output  # why auto chose cross-validation
    assert "macro-F1" in report.output and "coverage at 0.60" in report.output
    assert "confusion matrix" in report.output and "Returns & Claims" in report.output
    again = runner.invoke(app, ["triage", "report"]).output
    assert again.split("split:", 1)[1] == report.output.split("split:", 1)[1]  # same seed, same numbers


def test_report_json_with_a_holdout_split(runner: CliRunner) -> None:
    result = runner.invoke(app, ["triage", "report", "--split", "holdout", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["split"] == "holdout" and payload["seed"] == 3 and payload["model_version"] is None
    team = payload["fields"]["team"]
    assert team["examples"] == 12 and 0 <= team["coverage"] <= 1 and len(team["confusion"]) == len(team["labels"])


def test_classify_text_before_training_is_cold_start(runner: CliRunner) -> None:
    result = runner.invoke(app, ["triage", "classify", "--text", "The invoice charges us twice for the desks."])
    assert result.exit_code == 0, result.output
    assert "cold start" in result.output and "needs a person" in result.output


def test_classify_a_ticket_json_after_training(runner: CliRunner) -> None:
    assert runner.invoke(app, ["triage", "train"]).exit_code == 0
    result = runner.invoke(app, ["triage", "classify", "--ticket", "11", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["mode"] == "trained"
    assert payload["predictions"][0] == payload["predictions"][0] | {"field": "category", "source": "classifier"}
    assert [o["name"] for o in payload["orders"] if o["referenced"]] == ["S00024"]


def test_classify_needs_some_input(runner: CliRunner) -> None:
    result = runner.invoke(app, ["triage", "classify"])
    assert result.exit_code == 2 and "give --text, --file or --ticket" in result.output


def test_an_unknown_ticket_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["triage", "classify", "--ticket", "9999"])
    assert result.exit_code == 1 and "no helpdesk ticket '9999'" in result.output
