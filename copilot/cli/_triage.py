"""``copilot triage ...``: train on Odoo's labelled tickets, report held-out scores, classify an issue."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from copilot.cli._loading import announce_model_loads, check_odoo
from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.cli._tickets import TICKET_HELP, resolve_ticket
from copilot.config import Settings
from copilot.errors import CopilotError, OdooNotFound
from copilot.odoo import OdooClient
from copilot.skills.triage.schemas import DEFAULT_SEED, TriageInput
from copilot.tools.helpdesk import HelpdeskCatalog, HelpdeskFlavour, detect_helpdesk, get_tickets, load_catalog

if TYPE_CHECKING:  # the model and training modules import NumPy and scikit-learn: inside the commands
    from copilot.retrieval.embeddings import Embedder
    from copilot.skills.triage.labels import TriageLabels
    from copilot.skills.triage.model import FieldReport, TriageModel
    from copilot.skills.triage.schemas import TicketClassification
    from copilot.skills.triage.training import Example, SplitKind

app = typer.Typer(
    help="Helpdesk triage: learn from Odoo's labelled tickets, report how well it does, classify issues.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")
#: Below this many labelled tickets, ``--split auto`` cross-validates instead of holding out one split.
AUTO_HOLDOUT_MIN = 200
_MAX_TICKETS = 100_000


def _where(settings: Settings) -> tuple[str, str]:
    """Which Odoo and database: models of different ones are kept apart."""
    from copilot.skills.triage.skill import model_owner

    return model_owner(settings)


def _no_helpdesk() -> CopilotError:
    return OdooNotFound(
        "this Odoo has no Helpdesk app, so there are no tickets to learn from. Classifying text still works "
        "(cold start, default labels): `copilot triage classify --text ...`",
        model="helpdesk.ticket",
    )


def _labelled(client: OdooClient) -> tuple[list[Example], HelpdeskCatalog, TriageLabels]:
    from copilot.skills.triage.labels import labels_from_catalog
    from copilot.skills.triage.training import examples_from_tickets

    schema = detect_helpdesk(client)
    if schema.flavour is HelpdeskFlavour.NONE:
        raise _no_helpdesk()
    catalog = load_catalog(client, schema)
    labels = labels_from_catalog(catalog)
    tickets = get_tickets(client, catalog, limit=_MAX_TICKETS)
    return examples_from_tickets(tickets, labels), catalog, labels


def _load(embedder: Embedder) -> float:
    """Load the embedding model now (a local one); the seconds it took (0 for any other embedder)."""
    from copilot.retrieval.embeddings import LocalEmbedder

    if not isinstance(embedder, LocalEmbedder):
        return 0.0
    embedder.load()
    return embedder.load_seconds or 0.0


def _status(message: str) -> None:
    err_console.print(f"[dim]{message}[/]")


@app.command("train")
def train(
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of every random choice (folds, solver)."),
    min_examples: int = typer.Option(2, min=2, help="Classes with fewer labelled tickets are not learned."),
    json: bool = JSON,
) -> None:
    """Learn category, team and priority from Odoo's labelled (categorized or closed) tickets; save the model."""
    from copilot.skills.triage.model import model_root
    from copilot.skills.triage.training import train_model

    with command_root() as root:
        settings = root.settings
        odoo_key, database = _where(settings)
        odoo = root.odoo
        _status(f"reading labelled tickets from {odoo.label}")
        examples, catalog, labels = _labelled(odoo.client)
        embedder = root.embedder
        _status(f"{len(examples)} labelled tickets; loading the embedding model ({embedder.info.name})")
        load_seconds = _load(embedder)
        started = time.perf_counter()
        vectors = embedder.embed([e.text for e in examples])
    model = train_model(
        examples,
        labels,
        catalog,
        embedder,
        odoo=odoo_key,
        database=database,
        trained_at=datetime.now(UTC).replace(microsecond=0),
        seed=seed,
        min_examples=min_examples,
        threshold=settings.triage_min_confidence,
        vectors=vectors,
    )
    folder = model.save(model_root(settings.data_dir, odoo_key, database))
    seconds = time.perf_counter() - started
    if json:
        return print_json({"path": str(folder), "seconds": round(seconds, 2), **model.metadata.model_dump(mode="json")})
    table = Table(
        "label", "classes", "tickets", "CV macro-F1", "CV accuracy", f"coverage ≥{settings.triage_min_confidence:.2f}"
    )
    for info in model.metadata.heads:
        cv = info.cross_validated
        table.add_row(
            info.field,
            str(len(info.classes)),
            str(sum(info.counts.values())),
            f"{cv.macro_f1:.2f}" if cv else "-",
            f"{cv.accuracy:.2f}" if cv else "-",
            f"{cv.coverage:.0%}" if cv else "-",
        )
    console.print(table)
    for info in model.metadata.heads:
        if info.excluded:
            skipped = ", ".join(f"{name} ({n})" for name, n in info.excluded.items())
            console.print(f"[yellow]{info.field}: too few tickets to learn {skipped}[/]")
    console.print(
        f"trained model {model.metadata.version} on {model.metadata.labelled_tickets} labelled tickets "
        f"in {seconds:.1f} s (embedding model loaded in {load_seconds:.1f} s); saved to {folder}"
    )


def _print_field_report(report: FieldReport) -> None:
    sel = f"{report.selective_accuracy:.2f}" if report.selective_accuracy is not None else "-"
    console.print(
        f"\n[bold]{report.field}[/]: macro-F1 {report.macro_f1:.2f} · accuracy {report.accuracy:.2f} · "
        f"coverage at {report.threshold:.2f}: {report.coverage:.0%} (accuracy there {sel}) · "
        f"calibration error {report.ece:.2f} · {report.examples} held-out predictions"
    )
    table = Table("#", "class", "precision", "recall", "F1", "support")
    for i, score in enumerate(report.per_class):
        table.add_row(
            str(i), score.label.name, f"{score.precision:.2f}", f"{score.recall:.2f}", f"{score.f1:.2f}",
            str(score.support),
        )  # fmt: skip
    console.print(table)
    matrix = Table("true \\ predicted", *(str(i) for i in range(len(report.labels))), title="confusion matrix")
    for i, row in enumerate(report.confusion):
        matrix.add_row(str(i), *(str(n) if n else "." for n in row))
    console.print(matrix)


@app.command("report")
def report(
    split: str = typer.Option(
        "auto",
        help=f"cv (k-fold), holdout (one split), or auto: holdout from {AUTO_HOLDOUT_MIN} labelled tickets, else cv.",
    ),
    test_size: float = typer.Option(0.3, min=0.1, max=0.5, help="Held-out share with --split holdout."),
    seed: int | None = typer.Option(None, help="Seed (default: the trained model's, else 42)."),
    threshold: float | None = typer.Option(None, min=0, max=1, help="Abstain threshold (default: the setting)."),
    json: bool = JSON,
) -> None:
    """Per-class precision, recall, F1, the confusion matrix and coverage, on tickets the model did not see."""
    if split not in ("auto", "cv", "holdout"):
        raise typer.BadParameter("choose auto, cv or holdout", param_hint="--split")
    from copilot.skills.triage.model import ModelNotFound, TriageModel, model_root
    from copilot.skills.triage.training import describe_split, evaluate

    with command_root() as root:
        settings = root.settings
        odoo_key, database = _where(settings)
        try:
            trained: TriageModel | None = TriageModel.load_latest(model_root(settings.data_dir, odoo_key, database))
        except ModelNotFound:
            trained = None
        seed = seed if seed is not None else (trained.metadata.seed if trained else DEFAULT_SEED)
        min_examples = trained.metadata.min_examples if trained else 2
        threshold = threshold if threshold is not None else settings.triage_min_confidence
        odoo = root.odoo
        _status(f"reading labelled tickets from {odoo.label}")
        examples, _catalog, labels = _labelled(odoo.client)
        kind: SplitKind = (
            "holdout" if split == "holdout" or (split == "auto" and len(examples) >= AUTO_HOLDOUT_MIN) else "cv"
        )
        _status(f"embedding {len(examples)} labelled tickets")
        vectors = root.embedder.embed([e.text for e in examples])
    reports = evaluate(
        examples,
        vectors,
        labels,
        kind=kind,
        seed=seed,
        test_size=test_size,
        threshold=threshold,
        min_examples=min_examples,
    )
    how = describe_split(kind, seed, test_size)
    why = f" (--split auto: fewer than {AUTO_HOLDOUT_MIN} labelled tickets)" if split == "auto" and kind == "cv" else ""
    if json:
        return print_json(
            {
                "split": kind,
                "split_description": how,
                "seed": seed,
                "labelled_tickets": len(examples),
                "model_version": trained.metadata.version if trained else None,
                "fields": {k: r.model_dump(mode="json") for k, r in reports.items()},
            }
        )
    console.print(f"{len(examples)} labelled tickets from {odoo.label}")
    console.print(f"split: {how}{why}")
    if trained is not None:
        console.print(
            f"settings of model {trained.metadata.version}: seed {seed}, classes need {min_examples}+ tickets"
        )
    for rep in reports.values():
        _print_field_report(rep)
    macro = " · ".join(f"{r.field} {r.macro_f1:.2f}" for r in reports.values())
    coverage = " · ".join(f"{r.field} {r.coverage:.0%}" for r in reports.values())
    console.print(f"\n[bold]macro-F1[/]: {macro}\n[bold]coverage at {threshold:.2f}[/]: {coverage}")


def _print_classification(result: TicketClassification) -> None:
    mode = (
        f"trained model {result.model_version}"
        if result.mode == "trained"
        else "[yellow]cold start[/] (no trained model)"
    )
    console.print(f"mode: {mode} · engine: {result.engine}")
    table = Table("label", "prediction", "probability", "alternatives")
    for p in result.predictions:
        alternatives = ", ".join(f"{a.label.name} {a.probability:.2f}" for a in p.alternatives)
        llm = "" if p.agrees_with_llm is None else (" (LLM agrees)" if p.agrees_with_llm else f" (LLM: {p.llm_label})")
        table.add_row(p.field, p.label.name + llm, f"{p.probability:.2f}", alternatives or "-")
    if result.predictions:
        console.print(table)
    if result.needs_human:
        console.print("[bold yellow]needs a person[/]: " + "; ".join(result.reasons))
    else:
        console.print(f"[green]confident[/]: every label at {result.threshold:.2f} or above")
    for s in result.similar_tickets:
        labels = " / ".join(x.name for x in (s.category, s.team, s.priority) if x is not None)
        console.print(f"similar: {s.reference or s.id} {s.subject!r} ({s.similarity:.2f}) → {labels}")
    for o in result.orders:
        when = f", committed {o.commitment_date:%Y-%m-%d}" if o.commitment_date else ""
        how = "named in the text" if o.referenced else "open order"
        console.print(f"order: {o.name} · {o.customer} · {o.state} · delivery {o.delivery_status or '-'}{when} ({how})")
    if result.proposal is not None:
        changes = ", ".join(
            f"{k}: {result.proposal.before.get(k) or '-'} → {v}" for k, v in result.proposal.after.items()
        )
        console.print(f"proposal (not applied; needs approval, risk {result.proposal.risk_tier}): {changes}")
    if result.llm_fallback_reason:
        console.print(f"[yellow]LLM answer not used[/]: {result.llm_fallback_reason}")
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")


@app.command("classify")
def classify(
    text: str | None = typer.Option(None, help="The issue text (an email body, a Slack message); '-' reads stdin."),
    subject: str = typer.Option("", help="Subject line, if any."),
    customer: str | None = typer.Option(None, help="Customer name or e-mail (to find their open orders)."),
    ticket: str | None = typer.Option(None, help=f"Classify this ticket instead of --text. {TICKET_HELP}"),
    file: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Read the issue text from this file."),
    json: bool = JSON,
) -> None:
    """Category, team and priority with probabilities, similar past tickets and a needs-a-person verdict."""
    if ticket is None and text is None and file is None:
        raise typer.BadParameter("give --text, --file or --ticket", param_hint="--text")
    from copilot.skills.triage.skill import classify_ticket, load_triager

    body = ""
    if file is not None:
        body = file.read_text(encoding="utf-8", errors="replace")
    elif text == "-":
        body = sys.stdin.read()
    elif text is not None:
        body = text
    with command_root() as root:
        settings = root.settings
        odoo_key, database = _where(settings)
        llm = root.llm
        odoo = root.odoo
        check_odoo(odoo)  # before the embedding model loads
        components = announce_model_loads(root)
        ticket_id = resolve_ticket(odoo.client, ticket) if ticket is not None else None  # before the model loads
        triager = load_triager(
            odoo.client,
            settings,
            odoo=odoo_key,
            database=database,
            llm=llm,
            embedder=components.embedder,
            injection=components.injection,
        )
        item = TriageInput(subject=subject, body=body, customer=customer, ticket_id=ticket_id)
        result = classify_ticket(item, triager, odoo.client)
    if json:
        return print_json(result)
    _print_classification(result)
