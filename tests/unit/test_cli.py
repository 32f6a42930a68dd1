"""The ``copilot`` command as a user runs it: demo, summarize, the Odoo tools, --json everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "emails"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_demo_summarizes_every_supplier_email_with_its_purchase_orders(runner: CliRunner, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["demo", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "none configured: deterministic engine" in result.output
    payload = json.loads(report.read_text())
    summaries = payload["summaries"]
    assert len(summaries) == 13
    assert all(s["purchase_orders"] for s in summaries), "every seeded email names a PO that Odoo knows"
    combined = next(s for s in summaries if "Combined delivery" in s["email"]["subject"])
    assert {po["name"] for po in combined["purchase_orders"]} == {"P00004", "P00007"}
    for po in ("P00001", "P00002", "P00009", "P00010", "P00012"):
        assert po in result.output


def test_demo_json_is_machine_readable(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--json", "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["engine"].startswith("LLM: none configured")
    assert len(payload["summaries"]) == 13


def test_summarize_an_eml_file(runner: CliRunner) -> None:
    eml = next(FIXTURES.glob("*P00009*.eml"), None) or next(FIXTURES.glob("*p00009*.eml"))
    result = runner.invoke(app, ["summarize", str(eml), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [po["name"] for po in data["purchase_orders"]] == ["P00009"]
    assert "partial_shipment" in {c["kind"] for c in data["changes"]}


def test_summarize_from_stdin_without_po_reference(runner: CliRunner) -> None:
    raw = b"From: someone@example.com\nSubject: hello\n\nJust saying hi, no order here.\n"
    result = runner.invoke(app, ["summarize", "-", "--json"], input=raw)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["purchase_orders"] == []
    assert any("no purchase order reference" in w.lower() for w in data["warnings"])


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe\x00garbage" * 100,
        b"Subject: P00002\nContent-Type: text/plain; charset=x-unknown\n\nNew ship date December 3\xe9\n",
    ],
    ids=["empty", "binary", "unknown-charset"],
)
def test_summarize_bad_input_gives_a_clear_result_or_error(runner: CliRunner, raw: bytes) -> None:
    result = runner.invoke(app, ["summarize", "-", "--json"], input=raw)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 0:
        json.loads(result.stdout)
    else:
        assert "Traceback" not in result.output


def test_summarize_a_5_mb_email(runner: CliRunner) -> None:
    body = b"Re P00009: 12 dozen shipped, 8 dozen on backorder.\n" + b"filler line for the size test\n" * 180_000
    raw = b"From: soham.palmer15@example.com\nSubject: Re: P00009\nDate: Tue, 24 Nov 2026 09:45:00 -0800\n\n" + body
    assert len(raw) > 5_000_000
    result = runner.invoke(app, ["summarize", "-", "--json"], input=raw)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [po["name"] for po in data["purchase_orders"]] == ["P00009"]


def test_summarize_missing_file_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["summarize", "/no/such/file.eml"])
    assert result.exit_code == 2
    assert "no such file" in result.output


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["odoo", "po", "P00009"], "Gemini Furniture"),
        (["odoo", "late"], "P00005"),
        (["odoo", "so", "S00004"], "FURN_6741"),
        (["odoo", "stock", "FURN_8888"], "Office Lamp"),
        (["odoo", "partner", "ready"], "Ready Mat"),
        (["odoo", "tickets", "--open"], "HT00011"),
    ],
)
def test_odoo_tool_commands(runner: CliRunner, args: list[str], expect: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert expect in result.output
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0
    assert expect in json.dumps(json.loads(as_json.stdout))


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "summarize", "sandbox", "odoo"):
        assert command in result.output


def test_demo_is_a_table_on_a_wide_terminal_and_blocks_on_a_narrow_one(runner: CliRunner, tmp_path: Path) -> None:
    wide = runner.invoke(app, ["demo", "--report", str(tmp_path / "w.json")], env={"COLUMNS": "160"})
    narrow = runner.invoke(app, ["demo", "--report", str(tmp_path / "n.json")], env={"COLUMNS": "80"})
    assert wide.exit_code == 0 and narrow.exit_code == 0
    assert "┃ summary" in wide.output and "┃ summary" not in narrow.output
    for out in (wide.output, narrow.output):
        assert "azure-interior-billing.example" in out  # the impersonation warning shows either way


def test_slack_socket_mode_without_its_tokens_is_a_configuration_error() -> None:
    from typer.testing import CliRunner

    from copilot.cli import app

    result = CliRunner().invoke(app, ["slack", "socket"])
    assert result.exit_code == 2
    assert "COPILOT_SLACK_APP_TOKEN" in result.output
