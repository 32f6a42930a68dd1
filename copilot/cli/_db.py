"""``copilot db current|upgrade``: the project's database and its schema revision (migrations run at start-up too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from copilot.cli._output import print_json
from copilot.cli._root import command_root

if TYPE_CHECKING:
    from copilot.state.database import Database

app = typer.Typer(
    help="The project's database (COPILOT_DATABASE_URL, else state.sqlite in the data dir) and its migrations.",
    no_args_is_help=True,
)


JSON = typer.Option(False, "--json", help="Print the database, its revision and the head revision as JSON.")


def _report(db: Database, json: bool) -> None:
    revision, head = db.current(), db.head()
    if json:
        print_json({"database": db.label, "revision": revision, "head": head, "at_head": revision == head})
    else:
        typer.echo(f"{db.label}: {_describe(revision, head)}")


def _describe(revision: str | None, head: str) -> str:
    if revision is None:
        return "not migrated yet"
    return f"{revision} (head)" if revision == head else f"{revision} (head is {head})"


@app.command("current")
def current(json: bool = JSON) -> None:
    """Print the database and the revision of its schema."""
    with command_root(migrate=False) as root:
        _report(root.db, json)


@app.command("upgrade")
def upgrade(json: bool = JSON) -> None:
    """Migrate the schema to the newest revision (a data dir from before migrations is taken over as it is)."""
    with command_root() as root:
        _report(root.db, json)
