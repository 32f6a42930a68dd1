"""``copilot index FOLDER`` (ingest documents into the knowledge base) and ``copilot kb search QUERY``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from copilot.cli._loading import announce_model_loads, check_odoo
from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root

__all__ = ["index", "kb_app"]

JSON = typer.Option(False, "--json", help="Print the result as JSON.")
CORPUS = typer.Option(
    None, "--corpus", help="Name of the document set (default: the folder's absolute path); other sets are left alone."
)

kb_app = typer.Typer(help="Company knowledge base (policies, FAQ, reply templates): search what was indexed.")


def index(
    folder: Path | None = typer.Argument(
        None,
        exists=True,
        file_okay=False,
        dir_okay=True,
        resolve_path=True,
        help="Folder of .md, .txt, .html and .pdf files. Default: the sample knowledge base shipped with the copilot.",
    ),
    corpus: str | None = CORPUS,
    chunk_size: int = typer.Option(800, min=200, max=4000, help="Largest passage, in characters."),
    overlap: int = typer.Option(150, min=0, max=1000, help="Characters shared by consecutive passages."),
    json: bool = JSON,
) -> None:
    """Index a folder of documents: new and changed files are embedded, unchanged ones skipped, deleted ones removed."""
    from copilot.cli._progress import progress
    from copilot.retrieval import KnowledgeBase, index_folder, sample_kb_path

    if overlap >= chunk_size:
        raise typer.BadParameter("--overlap must be smaller than --chunk-size")
    folder = folder or sample_kb_path()
    with command_root() as root:
        announce_model_loads(root)
        store = root.vector_store()
        kb = KnowledgeBase(store)
        err_console.print(f"[dim]indexing {folder} into {store.where}[/]", soft_wrap=True)
        with progress("embedding chunks", console=err_console) as report:
            summary = index_folder(folder, kb, corpus=corpus, size=chunk_size, overlap=overlap, progress=report.update)
    if json:
        return print_json(summary)
    console.print(summary.line(), highlight=False, soft_wrap=True)
    for source in summary.skipped:
        err_console.print(f"[yellow]skipped {source}: no readable text[/]")


@kb_app.command("search")
def search(
    query: str = typer.Argument(..., help="What to look for, e.g. 'return a damaged chair'."),
    k: int = typer.Option(5, "--k", "-k", min=1, max=50, help="How many passages."),
    corpus: str | None = typer.Option(None, "--corpus", help="Only this document set (see `copilot index`)."),
    json: bool = JSON,
) -> None:
    """The passages closest to QUERY, best first, with their source file, heading and score."""
    from copilot.retrieval import KnowledgeBase

    if not query.strip():
        raise typer.BadParameter("the query is empty: say what to look for, e.g. 'return a damaged chair'")
    with command_root() as root:
        announce_model_loads(root)
        hits = KnowledgeBase(root.vector_store()).search(query, k=k, corpus=corpus)
    if json:
        return print_json(hits)
    if not hits:
        console.print("no passages: index documents first with `copilot index FOLDER`")
        return
    table = Table("#", "score", "source › heading", "passage", show_lines=True)
    for rank, hit in enumerate(hits, start=1):
        text = hit.text if len(hit.text) <= 400 else hit.text[:400].rsplit(" ", 1)[0] + " …"
        table.add_row(str(rank), f"{hit.score:.3f}", hit.label(), text)
    console.print(table)


@kb_app.command("tickets")
def tickets(json: bool = JSON) -> None:
    """Store Odoo's resolved (closed) helpdesk tickets in the knowledge base's tickets collection."""
    from copilot.retrieval import TicketIndex
    from copilot.retrieval.resolved import index_resolved_tickets

    with command_root() as root:
        odoo = root.odoo
        check_odoo(odoo)  # before the embedding model loads
        announce_model_loads(root)
        embedded, total = index_resolved_tickets(odoo.client, TicketIndex(root.vector_store()))
    if json:
        return print_json({"resolved_tickets": total, "embedded": embedded})
    console.print(f"{total} resolved tickets in Odoo; {embedded} embedded, {total - embedded} unchanged")
