"""Alembic's environment: migrations run on the connection ``Database.upgrade`` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from copilot.state.database import MIGRATION_LOCK
from copilot.state.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations with copilot.state.Database.upgrade() (or `copilot db upgrade`)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":  # one process migrates; the others then find the schema done
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.run_migrations()
