"""``copilot audit show|export|verify|anchor``: the audit trail from a terminal (nothing here writes a record;
``anchor`` signs the current head into the anchor file and the log)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from copilot.cli._output import console, print_json
from copilot.cli._root import command_root

if TYPE_CHECKING:
    from copilot.audit import AuditRecord, AuditTrail

app = typer.Typer(
    help="The audit trail: who asked what, which prompt, model and tools answered, what the guardrails said.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")


@contextmanager
def _trail() -> Iterator[AuditTrail]:
    """The audit trail in the command root's database (also with ``COPILOT_AUDIT_ENABLED=false``: what was written
    earlier stays readable)."""
    with command_root() as root:
        trail = root.audit  # closed with the root
        if trail is not None:
            yield trail
            return
        from copilot.audit import AuditTrail  # SQLAlchemy: only for the commands that read the trail

        trail = AuditTrail.from_settings(root.settings, root.db)
        try:
            yield trail
        finally:
            trail.close()


def _checks(record: AuditRecord) -> str:
    """The guardrails' verdicts: the error and failed checks first (what the eye must find), then those that passed."""
    failed = [f"{v.check} FAILED" for v in record.verdicts if not v.ok]
    passed = [v.check for v in record.verdicts if v.ok]
    ok = [f"ok: {', '.join(passed)}"] if passed else []
    return "; ".join((["error"] if record.error else []) + failed + ok) or "-"


def _table(records: list[AuditRecord]) -> Table:
    """One line per record; the columns that carry a ratio share the width the others leave."""
    wide = console.width >= 140
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, expand=True)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("actor", no_wrap=True, overflow="ellipsis", ratio=2)
    table.add_column("skill", no_wrap=True, overflow="ellipsis", max_width=12)
    if wide:
        table.add_column("model", no_wrap=True, overflow="ellipsis", ratio=2)
        table.add_column("tools", no_wrap=True, justify="right")
    table.add_column("checks", no_wrap=True, overflow="ellipsis", ratio=3)
    table.add_column("approvals", no_wrap=True, overflow="ellipsis", max_width=10)
    for r in records:
        cells = [str(r.seq), r.created_at.strftime("%Y-%m-%d %H:%M"), _actor(r) if wide else r.actor, r.skill]
        if wide:
            cells += [r.model, str(len(r.tool_calls))]
        cells += [_checks(r), ", ".join(map(str, r.approval_ids)) or "-"]
        table.add_row(*(escape(c) for c in cells))
    return table


def _actor(record: AuditRecord) -> str:
    return record.actor + (f" ({record.actor_role})" if record.actor_role else "")


def _block(record: AuditRecord) -> None:
    """Every field of one record, one labelled line each (wrapped, never cut)."""
    tools = Counter(f"{c.name}" + (f" {c.record_ids}" if c.record_ids else "") for c in record.tool_calls)
    prompt = f" · prompt {record.prompt.name} v{record.prompt.version}" if record.prompt else ""
    took = f" · {record.duration_ms} ms" if record.duration_ms is not None else ""
    rows = [
        ("model", f"{record.model}{prompt}"),
        ("tools", "; ".join(f"{name} ×{n}" if n > 1 else name for name, n in tools.items()) or "-"),
        *((v.check, ("ok" if v.ok else "FAILED") + (f": {v.detail}" if v.detail else "")) for v in record.verdicts),
        ("approvals", ", ".join(map(str, record.approval_ids)) or "-"),
        *((("error", record.error),) if record.error else ()),
        ("request", f"{record.request_id}{took}"),
        ("input sha256", record.input_hash or "-"),
    ]
    console.print(
        f"[bold]#{record.seq}[/] {record.created_at:%Y-%m-%d %H:%M:%S} UTC · {escape(record.skill)}"
        f" · {escape(_actor(record))}"
        + ("" if record.actor.startswith(f"{record.channel}:") else f" via {record.channel}"),
        highlight=False,
    )
    for label, value in rows:
        console.print(f"  [dim]{escape(label):<13}[/] {escape(value)}", highlight=False)


def show(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="The most recent N records."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor (channel:id, e.g. slack:U123)."),
    skill: str | None = typer.Option(None, "--skill", help="Only this skill (answer, draft, ...)."),
    since: datetime | None = typer.Option(None, "--since", help="Only records from this time on (ISO date/time)."),
    wide: bool = typer.Option(
        False, "--wide", help="Every field of each record (model, prompt, tools, each check's detail), a block each."
    ),
    json: bool = JSON,
) -> None:
    """The most recent audit records, oldest first: one line each (--wide: every field; --json: everything)."""
    with _trail() as trail:
        records = trail.records(since=since, actor=actor, limit=limit, skill=skill)
    if json:
        print_json(records)
        return
    if not records:
        console.print("no audit records")
        return
    if wide:
        for r in records:
            _block(r)
        return
    console.print(_table(records))


def export(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file (default: stdout).", dir_okay=False),
) -> None:
    """Every audit record as JSON Lines (one record per line, chain order), for a SIEM or an auditor."""
    with _trail() as trail:
        if out is None:
            trail.export_jsonl(sys.stdout)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            count = trail.export_jsonl(fh)
    typer.echo(f"{count} records written to {out}", err=True)


def verify(
    anchor: str | None = typer.Option(
        None,
        "--anchor",
        help="A signed anchor from the log (cpa1...) or a head hash printed by an earlier verify: it must "
        "still be in the chain.",
    ),
    json: bool = JSON,
) -> None:
    """Recompute every record's keyed hash and link, then check the latest anchor kept beside the trail;
    exit 1 naming the first record that was edited or removed."""
    with _trail() as trail:
        report = trail.verify(anchor=anchor)
    if json:
        print_json(report)
    else:
        typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def anchor(json: bool = JSON) -> None:
    """Check the chain, then sign its head now (anchor file and log) and print the anchor for safe keeping."""
    with _trail() as trail:
        report = trail.verify(stored_anchor=False)
        if not report.ok:
            typer.echo(report.summary(), err=True)
            raise typer.Exit(1)
        signed = trail.anchor()
    if signed is None:
        typer.echo("no audit records yet: nothing to anchor", err=True)
        return
    if json:
        print_json({**signed.model_dump(mode="json"), "anchor": signed.token()})
        return
    typer.echo(signed.token())


app.command("show")(show)
app.command("export")(export)
app.command("verify")(verify)
app.command("anchor")(anchor)
