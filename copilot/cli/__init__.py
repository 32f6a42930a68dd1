"""The ``copilot`` command: one entry point, a subcommand per job, ``--help`` on each."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup

from copilot import __version__
from copilot.cli import (
    _approvals,
    _ask,
    _audit,
    _controls,
    _db,
    _deadletters,
    _draft,
    _eval,
    _index,
    _mail,
    _odoo,
    _sandbox,
    _serve,
    _slack,
    _summarize,
    _triage,
    _worker,
)
from copilot.config import get_settings
from copilot.errors import ConfigError, CopilotError

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """Turns known failures into one-line errors (no traceback): bad settings exit 2, runtime failures 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            typer.secho(f"configuration error: {exc}", err=True, fg="red")
            raise SystemExit(2) from None
        except CopilotError as exc:
            typer.secho(f"error: {exc}", err=True, fg="red")
            raise SystemExit(1) from None


app = typer.Typer(
    cls=_Group,
    name="copilot",
    help="Odoo Ops Copilot: reads Odoo and mail, prepares decisions; people keep the authority.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain click help: flags read "--json", not Typer's rich "--json <bool>" (and help needs no rich import).
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"odoo-ops-copilot {__version__}")
        raise typer.Exit()


@app.callback()
def _startup(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress and retries to stderr."),
) -> None:
    """Validate the settings before any command runs (a bad setting fails here, in one line)."""
    settings = get_settings()
    if settings.policy_file is not None:  # a broken approval policy stops every command, not an approval later
        from copilot.approvals.policy import load_policy

        load_policy(settings.policy_file)
    level = logging.INFO if verbose else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    from copilot.guardrails.log_redaction import install_log_redaction

    install_log_redaction()  # no e-mail address, phone number or IBAN from a message reaches a log


app.command("summarize")(_summarize.summarize)
app.command("demo")(_summarize.demo)
app.add_typer(_sandbox.app, name="sandbox")
app.add_typer(_odoo.app, name="odoo")
app.add_typer(_triage.app, name="triage")
app.command("propose")(_approvals.propose)
app.add_typer(_approvals.app, name="approvals")
app.command("executor")(_approvals.executor)
app.command("index")(_index.index)
app.add_typer(_index.kb_app, name="kb")
app.add_typer(_eval.app, name="eval")
app.command("draft")(_draft.draft)
app.command("ask")(_ask.ask)
app.command("serve")(_serve.serve)
app.command("worker")(_worker.worker)
app.command("beat")(_worker.beat)
app.add_typer(_audit.app, name="audit")
app.add_typer(_mail.app, name="mail")
app.add_typer(_deadletters.app, name="deadletters")
app.add_typer(_slack.app, name="slack")
app.add_typer(_db.app, name="db")
app.add_typer(_controls.app, name="controls")


def main() -> None:
    """Console-script entry point."""
    app()
