"""``copilot ask``: a buyer's question about POs, vendors, receipts and supplier emails, answered with citations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from copilot.application import ServiceClient
from copilot.cli._loading import announce_model_loads, check_odoo
from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.llm import describe_engine

if TYPE_CHECKING:
    from copilot.skills.answer import Answer


def render_answer(answer: Answer) -> None:
    """Print the answer, then its sources (model, id, display name) and how it was produced."""
    console.print(answer.text, markup=False, highlight=False)
    if answer.citations:
        console.print("[dim]sources:[/]")
        for c in answer.citations:
            console.print(f"  [dim]· {c.model} {c.id}[/] {c.display_name}", highlight=False)
    notes = [f"engine: {answer.engine}", f"intent: {answer.intent.value}"]
    if answer.resolved_from_thread:
        notes.append("records from earlier in the thread")
    if answer.fallback_reason:
        notes.append(f"LLM answer not used: {answer.fallback_reason}")
    if not answer.grounding.grounded:
        notes.append(f"UNGROUNDED: {answer.grounding.summary()}")
    console.print(f"[dim]{' · '.join(notes)}[/]", highlight=False)


def ask(
    question: str = typer.Argument(..., help='The question, e.g. "which Wood Corner orders are late?".'),
    thread: str | None = typer.Option(
        None,
        help='Conversation thread (e.g. cli:alice): follow-ups in the same thread may say "it" or "that PO". '
        "Stored in COPILOT_DATA_DIR/state.sqlite.",
    ),
    json: bool = typer.Option(False, "--json", help="Print the Answer as JSON."),
) -> None:
    """Answer a buyer's question from Odoo (the embedded sandbox when no Odoo is set), with its sources."""
    if not question.strip():
        raise typer.BadParameter("the question is empty", param_hint="QUESTION")
    from copilot.service import open_copilot  # the skills and the state database: not at start-up

    with command_root() as root, open_copilot(root.settings, root=root) as copilot:
        settings = root.settings
        check_odoo(copilot.odoo)  # before the guardrails load the embedding model
        announce_model_loads(copilot.components)
        answer = copilot.ask(ServiceClient.cli_operator(), question, thread=thread)
        label = copilot.odoo.label
    if json:
        return print_json(answer)
    err_console.print(f"[dim]{describe_engine(settings)} · {label}[/]")
    render_answer(answer)
