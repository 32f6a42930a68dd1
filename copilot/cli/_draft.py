"""``copilot draft``: a reply draft to a customer message, grounded in Odoo and the knowledge base."""

from __future__ import annotations

import sys
from email.utils import getaddresses
from pathlib import Path

import typer

from copilot.application import ServiceClient
from copilot.cli._loading import announce_model_loads, check_odoo
from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.cli._tickets import TICKET_HELP, resolve_ticket
from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools import find_partners


def _check_customer(client: OdooClient, customer: str) -> None:
    """``OdooNotFound`` when no partner matches ``customer`` (its name, or an address in it)."""
    queries = [customer, *(address for _, address in getaddresses([customer]) if "@" in address)]
    if not any(find_partners(client, q, limit=1) for q in dict.fromkeys(q.strip() for q in queries) if q):
        raise OdooNotFound(
            f"no customer in Odoo matches {customer!r} (--customer): check the name or e-mail, "
            "or leave --customer out to draft without the customer's orders",
            model="res.partner",
        )


def draft(
    text: str | None = typer.Option(None, help="The customer's message; '-' reads stdin."),
    file: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Read the message from this file."),
    subject: str = typer.Option("", help="The message's subject (default with --ticket: the ticket's)."),
    customer: str | None = typer.Option(None, help="Customer name or e-mail (who is writing)."),
    sender: str | None = typer.Option(None, help="The message's From address."),
    ticket: str | None = typer.Option(None, help=f"The ticket the message belongs to. {TICKET_HELP}"),
    json: bool = typer.Option(False, "--json", help="Print the draft as JSON."),
) -> None:
    """Draft a reply with the facts used, citations, open questions and suggested actions (never sent)."""
    if text is None and file is None:
        raise typer.BadParameter("give --text or --file", param_hint="--text")
    message = (
        file.read_text(encoding="utf-8", errors="replace") if file else (sys.stdin.read() if text == "-" else text)
    )
    from copilot.service import open_copilot  # the skills and the state database: not at start-up
    from copilot.skills.draft_reply import DraftRequest

    with command_root() as root, open_copilot(root.settings, root=root) as copilot:
        check_odoo(copilot.odoo)  # before the knowledge base loads the embedding model
        announce_model_loads(copilot.components)
        err_console.print(f"[dim]drafting from {copilot.odoo.label}[/]")
        # The skill takes the ticket's subject when none is given (on every channel).
        ticket_id = resolve_ticket(copilot.odoo.client, ticket) if ticket is not None else None
        if customer:
            _check_customer(copilot.odoo.client, customer)
        result = copilot.draft(
            ServiceClient.cli_operator(),
            DraftRequest(
                message=message or "", subject=subject, customer=customer, sender_email=sender, ticket_id=ticket_id
            ),
        )
    if json:
        return print_json(result)
    colour = {"ready": "green", "needs_review": "yellow", "needs_clarification": "yellow"}[result.status]
    console.print(f"[bold {colour}]{result.status}[/] · {result.intent} · {result.tone} · engine {result.engine}")
    console.print(f"[bold]Subject:[/] {result.subject}\n")
    console.print(result.body, markup=False)
    console.print("")
    if not result.grounding.grounded:
        console.print(f"[red]not grounded[/]: {result.grounding.summary()}")
    for q in result.open_questions:
        console.print(f"[yellow]check[/]: {q}")
    if result.needs_customer:
        console.print("[yellow]hint[/]: say who is writing with --customer NAME, --sender ADDRESS or --ticket HT00011")
    for a in result.suggested_actions:
        console.print(f"suggested action ({a.action_type}): {a.title} — {a.reason}")
    if result.fallback_reason:
        console.print(f"[yellow]LLM draft not used[/]: {result.fallback_reason}")
    console.print("citations: " + "; ".join(f"{c.model} {c.display_name}" for c in result.citations))
