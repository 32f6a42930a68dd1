"""The project's database: SQLAlchemy 2, SQLite under the data directory by default, any URL (PostgreSQL) later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

from copilot.config import Settings

__all__ = ["STATE_FILE", "Base", "default_url", "make_engine"]

#: The SQLite file under ``settings.data_dir`` when no URL is given.
STATE_FILE = "state.sqlite"


class Base(DeclarativeBase):
    """Declarative base of every table the copilot keeps (conversation turns today)."""


def default_url(settings: Settings) -> str:
    """The SQLite URL of ``settings.data_dir/state.sqlite``."""
    return f"sqlite:///{Path(settings.data_dir).expanduser() / STATE_FILE}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (a Slack worker) do not block the writer
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, *, metadata: MetaData | None = None) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and the tables of ``metadata`` (default: state's)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):  # one shared connection, or every session sees an empty database
            engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            if not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    (metadata or Base.metadata).create_all(engine)
    return engine
