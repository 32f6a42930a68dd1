"""Handed over: when a received webhook event or Slack delivery was given to the work queue.

``webhook_events.queued_at`` (Unix seconds) and ``slack_seen.handed_at`` are set by the replica once the
item is queued (or started in its own process). A sender's retry of an item that was accepted but never
handed over (the replica died in between) takes it over after a short grace period instead of being
answered as a duplicate. Rows written before this revision were handed over: they get their own time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two columns; existing rows count as handed over at the time they were accepted."""
    op.add_column("webhook_events", sa.Column("queued_at", sa.Float(), nullable=True))
    op.add_column("slack_seen", sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE webhook_events SET queued_at = created_at")
    op.execute("UPDATE slack_seen SET handed_at = seen_at")


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("slack_seen") as batch:
        batch.drop_column("handed_at")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_column("queued_at")
