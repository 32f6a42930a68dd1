"""Race-free claims on shared rows: ``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike.

Several processes (``copilot serve`` replicas, Celery workers) may reach for the same email or event at the
same moment. A claim is one statement the database decides, never a read followed by a write: an insert
that does nothing when the key exists (``insert_if_absent``), or an update whose ``WHERE`` says when the
row may be taken (unclaimed, lease expired, or already ours), whose row count says who won.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_if_absent"]


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same key (or another unique value) exists; True when inserted."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the project supports SQLite and PostgreSQL
        raise NotImplementedError(f"no race-free insert on {dialect}")
    key = next(iter(table.primary_key.columns))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT through SQLAlchemy
    return session.execute(statement.returning(key)).first() is not None
