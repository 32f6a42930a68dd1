"""``copilot audit show|export|verify|anchor``: the audit trail from a terminal (nothing here writes a record;
``anchor`` signs the current head into the anchor file and the log)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from copilot.cli._output import console, print_json
from copilot.config import get_settings

if TYPE_CHECKING:
    from copilot.audit import AuditRecord, AuditTrail

app = typer.Typer(
    help="The audit trail: who asked what, which prompt, model and tools answered, what the guardrails said.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _open() -> AuditTrail:
    from copilot.audit import AuditTrail  # SQLAlchemy: only for the commands that read the trail

    return AuditTrail.from_settings(get_settings())


def _verdicts(record: AuditRecord) -> str:
    if not record.verdicts:
        return "-"
    return ", ".join(f"{v.check} {'ok' if v.ok else 'FAILED'}" for v in record.verdicts)


def show(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="The most recent N records."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor (channel:id, e.g. slack:U123)."),
    skill: str | None = typer.Option(None, "--skill", help="Only this skill (answer, draft, ...)."),
    since: datetime | None = typer.Option(None, "--since", help="Only records from this time on (ISO date/time)."),
    json: bool = JSON,
) -> None:
    """The most recent audit records, oldest first."""
    trail = _open()
    try:
        records = trail.records(since=since, actor=actor, limit=limit, skill=skill)
    finally:
        trail.close()
    if json:
        print_json(records)
        return
    if not records:
        console.print("no audit records")
        return
    table = Table("#", "time (UTC)", "actor", "skill", "model", "tools", "verdicts", "approvals")
    for r in records:
        table.add_row(
            str(r.seq),
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            escape(r.actor + (f" ({r.actor_role})" if r.actor_role else "")),
            escape(r.skill),
            escape(r.model + (f" {r.prompt.name} v{r.prompt.version}" if r.prompt else "")),
            str(len(r.tool_calls)),
            escape(_verdicts(r) + (f"; error: {r.error}" if r.error else "")),
            ", ".join(map(str, r.approval_ids)) or "-",
        )
    console.print(table)


def export(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file (default: stdout).", dir_okay=False),
) -> None:
    """Every audit record as JSON Lines (one record per line, chain order), for a SIEM or an auditor."""
    trail = _open()
    try:
        if out is None:
            trail.export_jsonl(sys.stdout)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            count = trail.export_jsonl(fh)
    finally:
        trail.close()
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
    trail = _open()
    try:
        report = trail.verify(anchor=anchor)
    finally:
        trail.close()
    if json:
        print_json(report)
    else:
        typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def anchor(json: bool = JSON) -> None:
    """Check the chain, then sign its head now (anchor file and log) and print the anchor for safe keeping."""
    trail = _open()
    try:
        report = trail.verify(stored_anchor=False)
        if not report.ok:
            typer.echo(report.summary(), err=True)
            raise typer.Exit(1)
        signed = trail.anchor()
    finally:
        trail.close()
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
