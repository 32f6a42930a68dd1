"""One database: the audit trail (``audit.sqlite``) and the idempotency keys (``http-idempotency.sqlite``) of a
data dir written before the migrations move into ``state.sqlite``, row for row.

Audit records are copied with their ``seq``, hashes and all fields unchanged, so the chain, its keyed
hashes and the signed anchors beside it still verify; a trail from before keying (no ``version``
column) keeps version 1. Once the migration is committed, ``Database.upgrade`` renames each old file to
``<name>.moved`` (kept as a backup, never read again). Nothing happens on PostgreSQL or without such files.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("copilot.state")

#: (old file, table) moved into the database.
_LEGACY = (("audit.sqlite", "audit_records"), ("http-idempotency.sqlite", "http_idempotency"))
_BATCH = 1_000


def _columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]


def _absorb(path: Path, table: str) -> int:
    """Copy the rows of ``table`` in the old file ``path`` into the same table here; returns how many."""
    bind = op.get_bind()
    wanted = [c["name"] for c in sa.inspect(bind).get_columns(table)]
    source = sqlite3.connect(path)  # not read-only: records still in a crashed writer's WAL file are read too
    try:
        found = _columns(source, table)
        if not found:
            return 0
        if bind.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar():
            raise RuntimeError(
                f"cannot move {path} into the database: its table {table} already has rows; "
                "move the old file away to start a new trail, or restore the database it belongs with"
            )
        shared = [c for c in wanted if c in found]
        target = sa.table(table, *(sa.column(c) for c in shared))  # untyped: values are copied as stored
        names = ", ".join(f'"{c}"' for c in shared)
        cursor = source.execute(f'SELECT {names} FROM "{table}"')  # noqa: S608 - names come from the schemas
        copied = 0
        while rows := cursor.fetchmany(_BATCH):
            bind.execute(sa.insert(target), [dict(zip(shared, row, strict=True)) for row in rows])
            copied += len(rows)
        return copied
    finally:
        source.close()


def upgrade() -> None:
    """Copy the old files' rows, if this is a SQLite data dir that has them."""
    folder = context.config.attributes.get("legacy_dir")
    if folder is None or op.get_bind().dialect.name != "sqlite":
        return
    own = context.config.attributes.get("database_file")
    for name, table in _LEGACY:
        path = Path(folder) / name
        if path.is_file() and (own is None or path.resolve() != Path(own).resolve()):  # never the database itself
            copied = _absorb(path, table)
            context.config.attributes.setdefault("absorbed", []).append(path)  # renamed once committed
            log.warning(
                "moved %d rows of %s from %s into the database (the file is no longer used)", copied, table, path
            )


def downgrade() -> None:
    """Nothing to undo: the rows stay (and the old files were never changed)."""
