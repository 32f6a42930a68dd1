"""``copilot summarize`` (one email) and ``copilot demo`` (every supplier email in Odoo)."""

from __future__ import annotations

import json as jsonlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from copilot.cli._loading import announce_model_loads, check_odoo
from copilot.cli._output import awaits_goods, console, days_overdue, err_console, fmt_date, overdue_fields, print_json
from copilot.cli._root import command_root
from copilot.config import get_settings
from copilot.email import parse_email
from copilot.errors import EmailParseError
from copilot.llm import describe_engine
from copilot.tools.chatter import email_from_chatter, recent_emails

if TYPE_CHECKING:
    from copilot.skills.supplier_email import SupplierEmailSummary
    from copilot.skills.supplier_email.schemas import ResolvedPurchaseOrder

MAX_INPUT_BYTES = 25 * 1024 * 1024
#: Columns from which the demo prints one table row per email.
WIDE_TABLE = 120


#: Bytes looked at to tell text from binary data.
SNIFF_BYTES = 8192
#: C0 control bytes that text (and RFC 822 mail) does carry: tab, newline, form feed, carriage return, escape
#: (ISO-2022-JP switches character sets with it).
_TEXT_CONTROLS = frozenset(b"\t\n\f\r\x1b")


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    file = Path(path)
    if file.is_dir():
        raise typer.BadParameter(f"{path} is a directory: give one .eml file, or - for stdin", param_hint="EMAIL")
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {path}", param_hint="EMAIL")
    with file.open("rb") as fh:
        return fh.read(MAX_INPUT_BYTES + 1)


def is_binary(raw: bytes) -> bool:
    """True when ``raw`` starts like binary data (a NUL byte, or more than 1% control bytes), not text."""
    sample = raw[:SNIFF_BYTES]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if (byte < 0x20 and byte not in _TEXT_CONTROLS) or byte == 0x7F)
    return controls > max(2, len(sample) // 100)


def po_label(po: ResolvedPurchaseOrder, today: datetime | None, *, short: bool = False) -> str:
    """``P00002``, or ``P00002 (expected 2026-11-22, overdue 4 d)`` when its arrival is past and goods are due
    (``short``: ``P00002`` over ``(overdue 4 d)``, for a table cell)."""
    days = (
        days_overdue(po.date_planned, today)
        if today is not None and awaits_goods(po.state, po.receipt_status)
        else None
    )
    if not days:
        return po.name
    return (
        f"{po.name}\n(overdue {days} d)"
        if short
        else f"{po.name} (expected {fmt_date(po.date_planned)}, overdue {days} d)"
    )


def report_json(summary: SupplierEmailSummary, today: datetime) -> dict[str, Any]:
    """The summary as JSON, each purchase order with ``overdue`` and ``days_overdue`` against ``today``."""
    data = summary.model_dump(mode="json")
    for po, row in zip(summary.purchase_orders, data["purchase_orders"], strict=True):
        row |= overdue_fields(po.date_planned, today, open_=awaits_goods(po.state, po.receipt_status))
    return data


def render_summary(summary: SupplierEmailSummary, *, today: datetime | None = None) -> None:
    """Print one summary for a buyer: the POs (marked when overdue against ``today``), each change against Odoo,
    warnings, citations."""
    pos = ", ".join(po_label(po, today) for po in summary.purchase_orders) or "no purchase order resolved"
    console.rule(f"[bold]{summary.email.subject or '(no subject)'}[/]")
    console.print(f"[dim]from[/] {summary.email.from_address or '?'}  [dim]·[/] {pos}")
    console.print(summary.summary)
    for change in summary.changes:
        target = change.po_name or ", ".join(po.name for po in summary.purchase_orders)  # the email's, if not its own
        on = f" {target}" if target else " (no PO)"
        console.print(f"  • [cyan]{change.kind.value}[/]{on}: {change.note or change.evidence}")
    for warning in summary.warnings:
        console.print(f"  [bold red]⚠ {warning}[/]")
    if summary.unresolved_references:
        console.print(f"  [yellow]not found in Odoo: {', '.join(summary.unresolved_references)}[/]")
    if summary.needs_reply:
        console.print("  [magenta]↩ the supplier expects a reply[/]")
    cites = ", ".join(c.label() for c in summary.citations)
    console.print(f"  [dim]sources: {cites or '-'} · engine: {summary.engine}[/]")


def summarize(
    email: str = typer.Argument("-", help="An .eml file, or - to read raw RFC 822 text on stdin."),
    json: bool = typer.Option(False, "--json", help="Print the SupplierEmailSummary as JSON."),
) -> None:
    """Summarize one supplier email: the POs it references, each change compared with Odoo."""
    settings = get_settings()
    raw = _read_input(email)
    if not raw.strip():
        raise EmailParseError("the email is empty")
    if len(raw) > MAX_INPUT_BYTES:
        raise EmailParseError(f"the email is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB; not read")
    if is_binary(raw):
        where = "stdin" if email == "-" else email
        raise EmailParseError(f"this is not an email: {where} is binary data; give an .eml file or RFC 822 text")
    from copilot.skills.supplier_email import summarize_supplier_email  # the guardrails and prompts

    message = parse_email(raw)
    with command_root() as root:
        settings = root.settings
        llm = root.llm
        odoo = root.odoo
        check_odoo(odoo)  # before the guardrails load the embedding model
        announce_model_loads(root)
        result = summarize_supplier_email(
            message, client=odoo.client, llm=llm, settings=settings, injection=root.injection, languages=root.languages
        )
    if json:
        return print_json(report_json(result, odoo.as_of))
    err_console.print(f"[dim]{describe_engine(settings)} · {odoo.label}[/]")
    render_summary(result, today=odoo.as_of)


def demo(
    json: bool = typer.Option(False, "--json", help="Print all summaries as JSON instead of the table."),
    report: Path | None = typer.Option(None, help="Where to write the JSON report (default: in COPILOT_DATA_DIR)."),
    limit: int = typer.Option(100, min=1, max=1000, help="At most this many emails."),
) -> None:
    """Summarize every supplier email logged on purchase orders (the embedded sandbox when no Odoo is set)."""
    from copilot.cli._progress import progress
    from copilot.skills.supplier_email import summarize_supplier_email
    from copilot.state.db import usable_data_dir  # imports SQLAlchemy: not for `copilot --help`

    settings = get_settings()
    # Where the report goes, checked before the work: an unusable COPILOT_DATA_DIR fails now, in one line.
    path = report or usable_data_dir(settings) / "reports" / f"demo-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    summaries: list[SupplierEmailSummary] = []
    with command_root() as root:
        settings = root.settings
        llm = root.llm
        odoo = root.odoo
        check_odoo(odoo)
        announce_model_loads(root)
        err_console.print(f"[bold]Odoo:[/] {odoo.label}")
        err_console.print(f"[bold]{describe_engine(settings)}[/]")
        messages = recent_emails(odoo.client, "purchase.order", limit=limit)
        with progress("summarizing supplier emails", console=err_console, total=len(messages), disable=json) as report:
            for msg in messages:
                email = email_from_chatter(msg)
                summaries.append(
                    summarize_supplier_email(
                        email, client=odoo.client, llm=llm, settings=settings, injection=root.injection
                    )
                )
                report.advance()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "generated_at": datetime.now(UTC).isoformat(),
        "odoo": odoo.label,
        "engine": describe_engine(settings),
        "summaries": [report_json(s, odoo.as_of) for s in summaries],
    }
    path.write_text(jsonlib.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    if json:
        print_json(payload)
        return
    if console.width < WIDE_TABLE:  # a narrow terminal: one block per email reads better than a squeezed table
        console.print(
            f"{len(summaries)} supplier emails, one block per email: subject, sender and purchase orders, the summary,"
            " each change against Odoo, warnings, sources",
            highlight=False,
        )
        for s in summaries:
            render_summary(s, today=odoo.as_of)
        err_console.print(f"{len(summaries)} supplier emails; report written to {path}", soft_wrap=True)
        return
    table = Table("date", "PO", "vendor", "changes", "summary", title=f"{len(summaries)} supplier emails", expand=True)
    for s in summaries:
        kinds = ", ".join(dict.fromkeys(c.kind.value for c in s.changes)) or "-"
        warn = f"\n[bold red]⚠ {'; '.join(s.warnings)}[/]" if s.warnings else ""
        table.add_row(
            s.email.date.strftime("%m-%d %H:%M") if s.email.date else "-",
            "\n".join(po_label(po, odoo.as_of, short=True) for po in s.purchase_orders) or "[yellow]no PO[/]",
            ", ".join(dict.fromkeys(po.vendor.name for po in s.purchase_orders)) or "-",
            kinds,
            s.summary + warn,
        )
    console.print(table)
    err_console.print(f"report written to {path}", soft_wrap=True)
