"""``copilot controls list|run NAME|schedule``: the scheduled controls, their last runs, a run now, their next times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root

if TYPE_CHECKING:
    from copilot.controls.model import ControlRun

app = typer.Typer(
    help="Scheduled controls (late POs, tickets aging, approvals waiting, credit holds...): list, run, schedule.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")
_COLOURS = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


@app.command("list")
def list_controls(json: bool = JSON) -> None:
    """Each control: schedule, owner, enabled, its last run and how many exceptions are open."""
    with command_root() as root:
        engine = root.controls
        runs = engine.store.last_runs()
        counts = engine.store.counts("open")
        rows = []
        for name in engine.registry.names():
            definition = engine.definition(name)
            last = runs.get(name)
            rows.append(
                {
                    "name": name,
                    "enabled": definition.enabled,
                    "schedule": definition.schedule,
                    "owner": definition.owner,
                    "description": definition.description or engine.registry.get(name).description,
                    "last_run": last.model_dump(mode="json") if last else None,
                    "open": sum(n for (control, _), n in counts.items() if control == name),
                }
            )
    if json:
        return print_json(rows)
    table = Table("control", "schedule", "owner", "last run", "open")
    for row in rows:
        last = row["last_run"]
        when = "never"
        if last:
            when = f"{last['ran_at'][:16].replace('T', ' ')} {last['outcome']} ({last['findings']} found)"
        schedule = row["schedule"] if row["enabled"] else f"[dim]{row['schedule']} (off)[/]"
        table.add_row(row["name"], schedule, escape(row["owner"]), when, str(row["open"]))
    console.print(table)


@app.command("run")
def run(
    name: str = typer.Argument(..., metavar="NAME", help="The control (copilot controls list)."),
    json: bool = JSON,
    no_notify: bool = typer.Option(
        False, "--no-notify", help="Track the findings but send nothing (they are sent by the next run that notifies)."
    ),
) -> None:
    """Run a control now: its findings ranked worst first, each with its reason; new and worsened ones are sent."""
    from copilot.application.principals import ServiceClient
    from copilot.service import open_copilot

    with command_root() as root:
        engine = root.controls
        engine.registry.get(name)  # an unknown name fails here, before Odoo is opened
        err_console.print(f"running {name} on {root.odoo.label}...", highlight=False)
        with open_copilot(root.settings, root=root) as copilot:
            result = copilot.run_control(ServiceClient.cli_operator(), name, notify=not no_notify)
    if json:
        return print_json(result)
    _print_run(result)


def _print_run(result: ControlRun) -> None:
    if not result.findings:
        console.print(f"{result.control}: nothing found", highlight=False)
    else:
        table = Table("#", "severity", "score", "exception", "reason", title=f"{result.control}: ranked findings")
        for position, finding in enumerate(result.findings, start=1):
            colour = _COLOURS.get(finding.severity, "")
            table.add_row(
                str(position),
                f"[{colour}]{finding.severity}[/]",
                f"{finding.score:.2f}",
                escape(finding.title),
                escape(finding.reason),
            )
        console.print(table)
    changes = [d.change for d in result.deliveries]
    verb = "sent" if result.notified else "to send (--no-notify)"
    trips = f", {result.odoo_round_trips} Odoo round trip(s)" if result.odoo_round_trips is not None else ""
    err_console.print(
        f"{len(result.findings)} found; {verb}: {changes.count('new')} new, {changes.count('worsened')} worsened; "
        f"{len(result.closed)} closed; {result.duration_s:.2f} s{trips}",
        highlight=False,
    )


@app.command("schedule")
def schedule(
    count: int = typer.Option(3, "--count", "-n", min=1, max=50, help="How many next run times per control."),
    json: bool = JSON,
) -> None:
    """The next run times of each enabled control, and where they run (copilot serve, or copilot beat)."""
    from copilot.controls.scheduler import next_runs, scheduled

    with command_root() as root:
        engine = root.controls
        settings = root.settings
        config = engine.definitions
        jobs = scheduled(config, engine.registry.names())
    now = datetime.now(UTC)
    plan = {name: next_runs(cron, config.timezone, now, count) for name, cron in jobs.items()}
    redis = settings.redis_url is not None and bool(settings.redis_url.get_secret_value().strip())
    where = "copilot beat sends them to the workers" if redis else "copilot serve runs them"
    if not settings.controls_scheduler:
        where = "nothing runs them (COPILOT_CONTROLS_SCHEDULER=false): only `copilot controls run`"
    if json:
        return print_json(
            {
                "timezone": config.timezone,
                "runs_in": where,
                "controls": {
                    name: {"schedule": jobs[name], "next": [t.isoformat() for t in times]}
                    for name, times in plan.items()
                },
            }
        )
    table = Table("control", "schedule", f"next runs ({config.timezone})", title=f"Scheduled: {where}")
    for name, times in plan.items():
        table.add_row(name, jobs[name], ", ".join(f"{t:%a %Y-%m-%d %H:%M}" for t in times))
    console.print(table)
