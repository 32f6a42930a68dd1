"""The project's database: SQLAlchemy 2, SQLite under the data directory by default, any URL (PostgreSQL) later."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

from copilot.config import Settings
from copilot.errors import ConfigError

__all__ = ["STATE_FILE", "Base", "default_url", "make_engine", "usable_data_dir"]

#: The SQLite file under ``settings.data_dir`` when no URL is given.
STATE_FILE = "state.sqlite"


class Base(DeclarativeBase):
    """Declarative base of every table the copilot keeps (conversation turns today)."""


def usable_data_dir(settings: Settings) -> Path:
    """``settings.data_dir``, created if missing; ``ConfigError`` naming ``COPILOT_DATA_DIR`` if it cannot be used."""
    folder = Path(settings.data_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "it is a file, not a folder" if folder.is_file() else (exc.strerror or type(exc).__name__)
        raise ConfigError(f"COPILOT_DATA_DIR: cannot use {folder} as the data folder: {why}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"COPILOT_DATA_DIR: cannot write in {folder}")
    return folder


def default_url(settings: Settings) -> str:
    """The SQLite URL of ``settings.data_dir/state.sqlite`` (the folder is created; see ``usable_data_dir``)."""
    return f"sqlite:///{usable_data_dir(settings) / STATE_FILE}"


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
