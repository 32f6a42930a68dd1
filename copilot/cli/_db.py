"""``copilot db current|upgrade``: the project's database and its schema revision (migrations run at start-up too)."""

from __future__ import annotations

import typer

from copilot.config import get_settings

app = typer.Typer(
    help="The project's database (COPILOT_DATABASE_URL, else state.sqlite in the data dir) and its migrations.",
    no_args_is_help=True,
)


def _describe(revision: str | None, head: str) -> str:
    if revision is None:
        return "not migrated yet"
    return f"{revision} (head)" if revision == head else f"{revision} (head is {head})"


@app.command("current")
def current() -> None:
    """Print the database and the revision of its schema."""
    from copilot.state.database import Database, database_url

    with Database(database_url(get_settings())) as db:
        typer.echo(f"{db.label}: {_describe(db.current(), db.head())}")


@app.command("upgrade")
def upgrade() -> None:
    """Migrate the schema to the newest revision (a data dir from before migrations is taken over as it is)."""
    from copilot.state.database import Database

    with Database.from_settings(get_settings()) as db:
        typer.echo(f"{db.label}: {_describe(db.current(), db.head())}")
