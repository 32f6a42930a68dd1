"""The sandbox's own writes kept in one SQLite file, so that they outlive the process.

The recording is never written: the file holds only the records the sandbox created, changed or
deleted (one row per record, its whole JSON, NULL once deleted) and the write counter that stamps
``write_date``. Every write call runs in one ``BEGIN IMMEDIATE`` transaction, so two processes on
the same file (``copilot serve`` and a command) take turns and never hand out one id twice; a
process notices another's commits through ``PRAGMA data_version`` and reloads before it answers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from copilot.errors import ConfigError

__all__ = ["FORMAT", "UNREADABLE", "Journal", "JournalRow", "clear_journal"]

#: Bumped when the file's layout changes; a file of another format is refused, never guessed at.
FORMAT = "1"
#: How long a call waits for another process's write transaction before it fails (seconds).
BUSY_TIMEOUT = 30.0

JournalRow = tuple[str, int, dict[str, Any] | None]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (model TEXT NOT NULL, id INTEGER NOT NULL, data TEXT, PRIMARY KEY (model, id))",
)


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` (its folder created); a folder that cannot be made is a ConfigError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"COPILOT_DATA_DIR: cannot keep the sandbox's writes in {path}: {exc}") from None
    return conn


class Journal:
    """One process's connection to the writes file; the caller serialises its use (the store's lock)."""

    def __init__(self, path: Path, recorded_at: str) -> None:
        self.path = path
        self._recorded_at = recorded_at
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    # ----------------------------------------------------------------- reading

    def changed_since_load(self) -> bool:
        """Whether another process committed since this one last loaded (or the file appeared)."""
        if self._conn is None:
            if not self.path.exists():
                return False
            self._open()
        assert self._conn is not None
        return self._data_version() != self._version

    def load(self) -> tuple[list[JournalRow], int]:
        """Every kept record and the write counter, read in one snapshot."""
        if self._conn is None:
            if not self.path.exists():
                return [], 0
            self._open()
        conn = self._conn
        assert conn is not None
        own = not conn.in_transaction  # inside a write transaction, read within it
        if own:
            conn.execute("BEGIN")
        try:
            rows = conn.execute("SELECT model, id, data FROM records ORDER BY model, id").fetchall()
            ticks = conn.execute("SELECT value FROM meta WHERE key = 'ticks'").fetchone()
        finally:
            if own:
                conn.execute("COMMIT")
        self._version = self._data_version()
        return [(m, int(i), json.loads(d) if d is not None else None) for m, i, d in rows], int(
            ticks[0] if ticks else 0
        )

    # ----------------------------------------------------------------- writing

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """Hold the file's write lock for one call; commit what ``save`` wrote, or roll it back."""
        if self._conn is None:
            self._open()
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._version = self._data_version()

    def save(self, rows: Iterable[JournalRow], ticks: int) -> None:
        """Write changed records (inside ``write_transaction``)."""
        assert self._conn is not None
        self._conn.executemany(
            "INSERT OR REPLACE INTO records (model, id, data) VALUES (?, ?, ?)",
            [(m, i, json.dumps(d, ensure_ascii=False) if d is not None else None) for m, i, d in rows],
        )
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('ticks', ?)", (str(ticks),))

    def close(self) -> None:
        """Release the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ----------------------------------------------------------------- internals

    def _data_version(self) -> int:
        assert self._conn is not None
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _open(self) -> None:
        conn = _connect(self.path)
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                conn.execute(statement)
            stamps = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('format', 'recorded_at')").fetchall())
            if not stamps:
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("format", FORMAT), ("recorded_at", self._recorded_at)],
                )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.close()
            raise ConfigError(
                f"COPILOT_DATA_DIR: the sandbox's writes in {self.path} cannot be read ({exc}); "
                "`copilot sandbox reset` restores the recording"
            ) from None
        if stamps and stamps != {"format": FORMAT, "recorded_at": self._recorded_at}:
            conn.close()
            raise ConfigError(
                f"COPILOT_DATA_DIR: the sandbox's writes in {self.path} belong to another recording or format; "
                "`copilot sandbox reset` restores the recording"
            )
        self._conn = conn


def clear_journal(path: Path) -> dict[str, int]:
    """Forget every kept write, per model how many (in one transaction, so running sandboxes reload).

    A file that is not a writes file of this format (damaged, or from another version) is deleted:
    the key ``UNREADABLE`` then says so."""
    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise ConfigError(f"COPILOT_DATA_DIR: cannot open the sandbox's writes in {path}: {exc}") from None
    try:
        conn.execute("BEGIN IMMEDIATE")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts: dict[str, int] = {}
        if "records" in tables:
            counts = dict(conn.execute("SELECT model, COUNT(*) FROM records GROUP BY model ORDER BY model").fetchall())
            conn.execute("DELETE FROM records")
        if "meta" in tables:
            conn.execute("DELETE FROM meta")  # the next sandbox stamps the file afresh
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise ConfigError(f"COPILOT_DATA_DIR: the sandbox's writes in {path} stay in use: {exc}") from None
        conn.close()
        return _delete(path)
    except sqlite3.DatabaseError:  # not a database at all
        conn.close()
        return _delete(path)
    finally:
        conn.close()
    return {str(m): int(n) for m, n in counts.items()}


#: ``clear_journal``'s key for a file it could not read and deleted.
UNREADABLE = "unreadable file"


def _delete(path: Path) -> dict[str, int]:
    for leftover in (path, path.with_name(path.name + "-journal")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError as exc:
            raise ConfigError(f"COPILOT_DATA_DIR: cannot delete {leftover}: {exc}") from None
    return {UNREADABLE: 1}
