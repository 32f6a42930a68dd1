"""The project's database: one engine and its sessions, shared by every store, migrated by Alembic.

``Database.from_settings`` opens ``COPILOT_DATABASE_URL`` (PostgreSQL in production, e.g.
``postgresql+psycopg://copilot:...@db/copilot``), else the SQLite file ``state.sqlite`` in the data dir,
and brings its schema to the newest migration (``copilot/state/migrations``). A data dir written before
the migrations existed (tables, no ``alembic_version``) is upgraded in place: the baseline migration only
creates what is missing, and the next one moves the audit trail and the idempotency keys out of their
own files into this database. A process opens one ``Database`` and hands it to every store, so one
SQLite file or one PostgreSQL server has one connection pool per process.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine, column, create_engine, event, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from copilot.config import Settings
from copilot.state.db import default_url

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS", "Database", "Store", "database_url"]

log = logging.getLogger("copilot.state")

#: The Alembic script directory shipped in the package.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest revision in ``MIGRATIONS`` (a test checks it): a database already there is opened without Alembic.
HEAD = "0005"
#: Alembic's table of the current revision.
VERSION_TABLE = "alembic_version"
#: Key of the PostgreSQL advisory lock that serializes migrations across processes.
MIGRATION_LOCK = 0x636F70696C6F7401
#: Alembic keeps the running migration in module globals (``alembic.op``, ``alembic.context``): two migrations
#: in one process at once (two databases, two threads) would run each other's steps, so they take turns.
_ALEMBIC = threading.Lock()


def database_url(settings: Settings) -> str:
    """``COPILOT_DATABASE_URL``, else the SQLite file ``state.sqlite`` in the data dir (the folder is created)."""
    if settings.database_url is not None and settings.database_url.get_secret_value().strip():
        return settings.database_url.get_secret_value().strip()
    return default_url(settings)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (a Slack worker) do not block the writer
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):  # one shared connection, or every session sees an empty database
        engine = create_engine(parsed, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    else:
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 5})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _retire(path: Path) -> None:
    """Rename a SQLite file whose rows moved into the database (and its WAL files) to ``<name>.moved``."""
    for suffix in ("", "-wal", "-shm"):
        old = path.with_name(path.name + suffix)
        if old.exists():
            old.rename(path.with_name(f"{path.name}.moved{suffix}"))
    log.warning("%s is now %s.moved: a backup, no longer read", path, path.name)


class Database:
    """One engine and its session factory; ``upgrade()`` migrates the schema (``open`` does both)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = _engine(url)
        #: ``with db.session() as s, s.begin(): ...`` (SQLAlchemy 2.0 sessions on the one engine).
        self.session: sessionmaker[Session] = sessionmaker(self.engine)

    @classmethod
    def open(cls, url: str = "sqlite://") -> Database:
        """The database at ``url`` (default: a private in-memory SQLite), migrated to the newest schema."""
        db = cls(url)
        try:
            db.upgrade()
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The configured database (``COPILOT_DATABASE_URL`` or ``state.sqlite`` in the data dir), migrated."""
        return cls.open(database_url(settings))

    # -- facts ----------------------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def label(self) -> str:
        """The URL with its password hidden (for logs and the CLI)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file, or None (in memory, or another database)."""
        database = self.engine.url.database or ""
        if self.dialect != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
            return None
        return Path(database).expanduser()

    def ping(self) -> None:
        """A ``SELECT 1`` (the readiness check of the database)."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- schema ---------------------------------------------------------------------------------------
    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema to ``revision``; a database written before the migrations is taken over as it is."""
        current = self.current()
        if revision == "head" and current == HEAD:  # the usual start: no Alembic import (~0.25 s)
            return
        from alembic import command

        log.info("database %s: schema %s, migrating to %s", self.label, current or "not migrated", revision)

        with _ALEMBIC, self._migration_lock():
            with self.engine.begin() as conn:
                config = self._config(conn)
                command.upgrade(config, revision)
            for path in config.attributes.get("absorbed", []):  # committed: the old files are never read again
                _retire(path)

    def current(self) -> str | None:
        """The schema's revision (None: never migrated)."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(VERSION_TABLE):
                return None
            version = table(VERSION_TABLE, column("version_num"))
            return conn.execute(select(version.c.version_num)).scalar()

    def head(self) -> str:
        """The newest revision the code knows."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._config(None)).get_current_head()
        if head is None:  # pragma: no cover - the package ships its migrations
            raise RuntimeError(f"no migration in {MIGRATIONS}")
        return head

    def _config(self, connection: Any) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        sqlite_file = self.sqlite_file
        #: Where the files of a data dir written before the migrations are (audit.sqlite, ...).
        config.attributes["legacy_dir"] = sqlite_file.parent if sqlite_file is not None else None
        config.attributes["database_file"] = sqlite_file
        return config

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """One process migrates at a time: a lock file beside a SQLite file, an advisory lock on PostgreSQL
        (taken in the migration's transaction by ``env.py``)."""
        sqlite_file = self.sqlite_file
        if sqlite_file is None:
            yield
            return
        import fcntl

        with open(sqlite_file.with_name(sqlite_file.name + ".migrate-lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.label!r})"


class Store:
    """Base of a store on the project's database: ``Store(db)`` shares ``db`` (a process passes its one
    ``Database`` to every store); ``from_settings`` opens the configured database for this store alone, and
    ``close`` then closes it (a CLI command, a test)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._owns_db = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The store on its own ``Database.from_settings(settings)`` (closed by ``close``)."""
        store = cls(Database.from_settings(settings))
        store._owns_db = True
        return store

    def close(self) -> None:
        """Release the database's connections if this store opened it; a shared database stays open."""
        if self._owns_db:
            self.db.close()
