"""Claims for several workers: who is processing an email or a webhook event, and until when.

``email_ledger`` and ``webhook_events`` get ``claimed_by`` (the claiming worker's token, e.g. a Celery task
id) and ``claimed_until`` (Unix seconds). A worker takes an item with one conditional statement (insert
if absent, else update only if unclaimed, expired or already its own), so of two workers on the same
item exactly one wins; a worker that died loses its claim when the lease runs out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("email_ledger", "webhook_events")


def upgrade() -> None:
    """Add the two claim columns (nullable: existing rows are unclaimed)."""
    for name in _TABLES:
        op.add_column(name, sa.Column("claimed_by", sa.String(200), nullable=True))
        op.add_column(name, sa.Column("claimed_until", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop the claim columns."""
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("claimed_until")
            batch.drop_column("claimed_by")
