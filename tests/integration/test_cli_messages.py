"""Messages a newcomer can act on: what was wrong, in their words, with the exit code a script can test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from copilot.cli import app


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _commands(group: Any, path: list[str]) -> list[list[str]]:
    """Every leaf command under ``group`` (Typer's click groups have ``commands``)."""
    out = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            out += _commands(command, [*path, name])
        else:
            out.append([*path, name])
    return out


def test_triage_classify_takes_the_ticket_number_shown_by_odoo_tickets(runner: CliRunner) -> None:
    listed = runner.invoke(app, ["odoo", "tickets", "--json", "--limit", "20"])
    ticket = next(t for t in json.loads(listed.stdout) if t["reference"] == "HT00011")
    by_number = runner.invoke(app, ["triage", "classify", "--ticket", "HT00011", "--json"])
    assert by_number.exit_code == 0, by_number.output
    by_id = runner.invoke(app, ["triage", "classify", "--ticket", str(ticket["id"]), "--json"])
    assert by_id.exit_code == 0, by_id.output
    number, db_id = json.loads(by_number.stdout), json.loads(by_id.stdout)
    assert number["predictions"] == db_id["predictions"]
    assert any(c["model"] == "helpdesk.ticket" and c["id"] == ticket["id"] for c in number["citations"])


@pytest.mark.parametrize(
    "args",
    [["triage", "classify", "--ticket", "HT99999"], ["draft", "--ticket", "99999", "--text", "hi"]],
    ids=["classify", "draft"],
)
def test_an_unknown_ticket_is_an_error(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "no helpdesk ticket" in result.output and args[args.index("--ticket") + 1] in result.output


def test_draft_for_an_unknown_customer_says_no_customer_matched(runner: CliRunner) -> None:
    result = runner.invoke(app, ["draft", "--customer", "Nobody Inc", "--text", "Where is S00024?"])
    assert result.exit_code == 1, result.output
    assert "no customer" in result.output and "Nobody Inc" in result.output
    assert "give the customer" not in result.output


@pytest.mark.parametrize("query", ["", "   "], ids=["empty", "blank"])
def test_kb_search_with_an_empty_query_says_so(runner: CliRunner, query: str) -> None:
    result = runner.invoke(app, ["kb", "search", query])
    assert result.exit_code == 2, result.output
    assert "the query is empty" in result.output
    assert "index documents first" not in result.output


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["odoo", "stock", "zzz-no-such-product"], "no product matches 'zzz-no-such-product'"),
        (["odoo", "partner", "zzz-no-such-partner"], "no partner matches 'zzz-no-such-partner'"),
        (["odoo", "po", "P99999"], "no purchase order named 'P99999'"),
    ],
    ids=["product", "partner", "po"],
)
def test_an_unknown_record_is_an_error_like_an_unknown_po(runner: CliRunner, args: list[str], expect: str) -> None:
    for extra in ([], ["--json"]):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 1, result.output
        assert expect in result.output


def test_summarize_a_directory_says_it_is_a_directory(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["summarize", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "is a directory" in result.output and "no such file" not in result.output


@pytest.mark.parametrize(
    "raw",
    [b"\x00\xff\xfe\x00garbage" * 100, bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + bytes(range(32)) * 50],
    ids=["nul-bytes", "all-bytes", "png"],
)
def test_a_binary_file_is_not_an_email(runner: CliRunner, tmp_path: Path, raw: bytes) -> None:
    file = tmp_path / "picture.eml"
    file.write_bytes(raw)
    for args, stdin in ((["summarize", str(file)], None), (["summarize", "-"], raw)):
        result = runner.invoke(app, args, input=stdin)
        assert result.exit_code == 1, result.output
        assert "this is not an email" in result.output


def test_text_without_headers_is_still_summarized(runner: CliRunner) -> None:
    result = runner.invoke(app, ["summarize", "-", "--json"], input="Re P00009: 12 dozen shipped, 8 on backorder.\n")
    assert result.exit_code == 0, result.output
    assert [po["name"] for po in json.loads(result.stdout)["purchase_orders"]] == ["P00009"]


def test_approvals_demo_takes_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["approvals", "demo", "--json"])
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)["steps"]
    assert [s["step"] for s in steps][:2] == ["email", "request"]
    assert any(s["step"] == "executor" and "P00002" in s["detail"] for s in steps), steps


def test_every_command_that_prints_results_takes_json(runner: CliRunner) -> None:
    root = typer.main.get_command(app)
    services = {
        "serve",
        "sandbox",
        "executor",
        "slack socket",
        "audit export",
        "worker",
        "beat",
    }  # they run, or write a file
    missing = []
    for path in _commands(root, []):
        if " ".join(path) in services:
            continue
        help_text = runner.invoke(app, [*path, "--help"], terminal_width=200).output
        if "--json" not in help_text:
            missing.append(" ".join(path))
    assert missing == []


def test_flags_are_not_shown_with_a_type_in_help(runner: CliRunner) -> None:
    root = typer.main.get_command(app)
    for path in [[], *_commands(root, [])]:
        help_text = runner.invoke(app, [*path, "--help"], terminal_width=200).output
        assert "<bool>" not in help_text, (path, help_text)


def test_a_change_without_its_own_po_names_the_emails_orders(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--report", str(tmp_path / "r.json")], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "question :" not in result.output
    assert "question P00004, P00007: the supplier asks for an answer" in result.output


def test_draft_on_a_ticket_reads_the_order_in_the_tickets_subject(runner: CliRunner) -> None:
    result = runner.invoke(app, ["draft", "--ticket", "HT00011", "--text", "Any news on the desks?", "--json"])
    assert result.exit_code == 0, result.output
    draft = json.loads(result.stdout)
    assert "S00024" in draft["subject"] and "which one is this about" not in draft["body"]
    assert any(c["model"] == "sale.order" and c["display_name"] == "S00024" for c in draft["citations"])
