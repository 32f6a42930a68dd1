"""What a person reads at 80 columns and in a pipe: overdue dates marked, one line per ticket or audit record,
plain progress lines instead of blank ones, a demo that says what it prints."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from copilot.audit import AuditEntry, AuditTrail, ToolCall, Verdict
from copilot.cli import app
from copilot.config import load_settings

NARROW = {"COLUMNS": "80"}
WIDE = {"COLUMNS": "160"}


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


# -- 1. overdue dates ------------------------------------------------------------------------------
def test_a_date_is_marked_overdue_only_when_it_is_past() -> None:
    from copilot.cli._output import fmt_due

    today = datetime(2026, 11, 26, 16, 5, tzinfo=UTC)
    assert fmt_due(datetime(2026, 11, 23, 8, 0), today) == "2026-11-23 (overdue 3 d)"
    assert fmt_due(datetime(2026, 11, 26, 8, 0), today) == "2026-11-26"  # today is not overdue
    assert fmt_due(datetime(2026, 12, 2), today) == "2026-12-02"
    assert fmt_due(None, today) == "-"


def test_sale_order_marks_a_receipt_that_is_already_past(runner: CliRunner) -> None:
    """S00024 waits for a receipt expected 2026-11-23; the sandbox's today is 2026-11-26."""
    shown = runner.invoke(app, ["odoo", "so", "S00024"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "2026-11-23 (overdue 3 d)" in shown.output
    data = json.loads(runner.invoke(app, ["odoo", "so", "S00024", "--json"]).stdout)
    [line] = data["lines"]
    assert line["expected_date"].startswith("2026-11-23")  # the date itself stays a date
    assert line["overdue"] is True and line["days_overdue"] == 3


def test_purchase_order_marks_its_past_expected_date_and_lines(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["odoo", "po", "P00009"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "expected 2026-11-23 (overdue 3 d)" in shown.output
    data = json.loads(runner.invoke(app, ["odoo", "po", "P00009", "--json"]).stdout)
    assert data["overdue"] is True and data["days_overdue"] == 3
    assert all(line["overdue"] and line["days_overdue"] == 3 for line in data["lines"])


def test_a_received_purchase_order_is_not_overdue(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(app, ["odoo", "po", "P00012", "--json"]).stdout)
    assert data["receipt_status"] == "full"
    assert data["overdue"] is False and data["days_overdue"] is None


def test_stock_marks_incoming_receipts_already_past(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["odoo", "stock", "FURN_7888"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "3 on 2026-11-20 (overdue 6 d)" in shown.output
    assert "125 on 2026-11-26" in shown.output and "2026-11-26 (overdue" not in shown.output
    data = json.loads(runner.invoke(app, ["odoo", "stock", "FURN_7888", "--json"]).stdout)
    by_day = {m["date"][:10]: m for m in data[0]["incoming"]}
    assert by_day["2026-11-20"]["days_overdue"] == 6 and by_day["2026-11-20"]["overdue"] is True
    assert by_day["2026-11-26"]["days_overdue"] is None and by_day["2026-11-26"]["overdue"] is False


def test_late_purchase_orders_say_how_overdue_their_date_is(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["odoo", "late"], env=NARROW)
    assert shown.exit_code == 0, shown.output
    assert "2026-11-20 (overdue 6 d)" in shown.output
    assert all(len(line) <= 80 for line in _lines(shown.output))


# -- 2. tickets ------------------------------------------------------------------------------------
def test_tickets_are_one_line_each_with_their_customer_at_80_columns(runner: CliRunner) -> None:
    tickets = json.loads(runner.invoke(app, ["odoo", "tickets", "--json"]).stdout)
    shown = runner.invoke(app, ["odoo", "tickets"], env=NARROW)
    assert shown.exit_code == 0, shown.output
    lines = _lines(shown.output)
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert len(lines) <= len(tickets) + 6, f"{len(lines)} lines for {len(tickets)} tickets"
    assert "customer" in shown.output
    for t in tickets:
        [line] = [x for x in lines if t["reference"] in x]
        if t["customer"]:
            assert t["customer"]["name"].split(",")[0][:12] in line
    assert "…" in shown.output  # long subjects are cut with an ellipsis, not wrapped


def test_tickets_use_the_full_width_of_a_wide_terminal(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["odoo", "tickets"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "ETA for 10 Corner Desks - S00024" in shown.output
    assert "Gemini Furniture, Oscar Morgan" in shown.output
    assert "Returns & Claims" in shown.output and "Delivery Issue / Damaged Goods" in shown.output


# -- 3. audit show ---------------------------------------------------------------------------------
def _audit_records() -> None:
    trail = AuditTrail.from_settings(load_settings())
    t0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    for n in range(3):
        entry = AuditEntry(
            actor=f"slack:U{n}",
            actor_role="customer_service",
            channel="slack",
            skill="draft",
            input_text="Where is S00024?",
            prompt={"name": "reply_draft", "version": 1, "sha256": "ab" * 32},  # type: ignore[arg-type]
            model="gpt-4o-mini-2024-07-18",
            tool_calls=[ToolCall(kind="odoo", name="sale.order.search_read", record_ids=[24])],
            verdicts=[
                Verdict(check="grounding", ok=n != 1, detail="grounded (5 facts checked)"),
                Verdict(check="exfiltration", ok=True),
                Verdict(check="injection", ok=True),
            ],
            approval_ids=[7 + n],
            error="LLM timed out after 30 s" if n == 2 else None,
        )
        trail.append(entry, at=t0 + timedelta(minutes=n))
    trail.close()


def test_audit_show_is_one_line_per_record_at_80_columns(runner: CliRunner) -> None:
    _audit_records()
    shown = runner.invoke(app, ["audit", "show"], env=NARROW)
    assert shown.exit_code == 0, shown.output
    lines = _lines(shown.output)
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    for n in range(3):
        [line] = [x for x in lines if f"slack:U{n}" in x]
        assert "2026-11-26 09:0" in line and "draft" in line
    [failed] = [x for x in lines if "slack:U1" in x]
    assert "grounding" in failed and "FAILED" in failed  # a failed check is what the eye must find


def test_audit_show_wide_gives_every_field(runner: CliRunner) -> None:
    _audit_records()
    shown = runner.invoke(app, ["audit", "show", "--wide"], env=NARROW)
    assert shown.exit_code == 0, shown.output
    out = shown.output
    for text in (
        "gpt-4o-mini-2024-07-18",
        "reply_draft v1",
        "sale.order.search_read",
        "grounded (5 facts checked)",
        "LLM timed out after 30 s",
        "customer_service",
    ):
        assert text in out, text
    assert all(len(line) <= 80 for line in _lines(out))


# -- 4. progress -----------------------------------------------------------------------------------
def test_progress_off_a_terminal_is_plain_lines_without_blank_ones() -> None:
    from copilot.cli._progress import progress

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=80)
    with progress("embedding chunks", console=console, every=0.0) as report:
        for done in range(0, 401, 40):
            report.update(done, 400)
    text = stream.getvalue()
    assert text, "a pipe sees the progress too"
    assert "" not in _lines(text)
    assert "embedding chunks 120/400" in text and text.rstrip().endswith("embedding chunks 400/400")
    assert "\x1b" not in text and "\r" not in text  # no cursor tricks in a log file


def test_progress_off_a_terminal_is_throttled() -> None:
    from copilot.cli._progress import progress

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=80)
    with progress("summarizing", console=console, total=1000, every=3600.0) as report:
        for _ in range(1000):
            report.advance()
    lines = _lines(stream.getvalue())
    assert lines == ["summarizing 0/1000", "summarizing 1000/1000"]


def test_index_in_a_pipe_prints_progress_lines_and_no_blank_line(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "returns.md").write_text("# Returns\n\nDamaged goods are replaced within 30 days.\n", encoding="utf-8")
    result = runner.invoke(app, ["index", str(folder)])
    assert result.exit_code == 0, result.output
    assert "embedding chunks 1/1" in result.stderr
    assert "" not in _lines(result.stderr), result.stderr


# -- 5. demo ---------------------------------------------------------------------------------------
def test_demo_says_what_follows_and_leaves_no_blank_line_in_a_pipe(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--report", str(tmp_path / "r.json")], env=NARROW)
    assert result.exit_code == 0, result.output
    first = result.stdout.lstrip().split("\n", 1)[0]
    assert "13 supplier emails" in first and "one block per email" in first, first
    assert "summarizing supplier emails 13/13" in result.stderr
    assert "" not in _lines(result.stderr), result.stderr
    # P00002 was expected 2026-11-22 and nothing is received: overdue on the sandbox's 2026-11-26
    assert "P00002 (expected 2026-11-22, overdue 4 d)" in " ".join(result.stdout.split())
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    orders = {po["name"]: po for s in report["summaries"] for po in s["purchase_orders"]}
    assert orders["P00002"]["overdue"] is True and orders["P00002"]["days_overdue"] == 4
    assert orders["P00012"]["overdue"] is False  # received in full


def test_a_change_of_an_email_without_a_resolved_order_says_so() -> None:
    """A change with no PO (a model's answer may give one; the rules need a PO reference) is labelled so."""
    from copilot.cli._output import console
    from copilot.cli._summarize import render_summary
    from copilot.skills.supplier_email.schemas import ChangeKind, DetectedChange, EmailHeader, SupplierEmailSummary

    header = EmailHeader(
        subject="our order", from_name=None, from_address="someone@example.com", date=None, message_id=None
    )
    question = DetectedChange(kind=ChangeKind.QUESTION, evidence="Can you confirm the order? Please reply.")
    summary = SupplierEmailSummary(
        email=header, changes=[question], summary="A question about an order.", needs_reply=True
    )
    with console.capture() as captured:
        render_summary(summary)
    changes = [line for line in captured.get().splitlines() if line.strip().startswith("•")]
    assert changes and all(" (no PO):" in line for line in changes), changes
