"""Scheduled controls: the exceptions they track and the results of their runs.

``control_exceptions`` keeps one row per (control, key): its state (open, acknowledged, snoozed, closed),
the latest finding, first and last seen, the severity and score last sent, who acknowledged it and when,
and until when it is snoozed. ``control_runs`` keeps each run's time, duration, counts and findings.
Both tables are new: no existing row changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables and their indexes."""
    op.create_table(
        "control_exceptions",
        sa.Column("control", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("finding", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_severity", sa.String(16), nullable=True),
        sa.Column("sent_score", sa.Float(), nullable=True),
        sa.Column("acknowledged_by", sa.String(300), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_control_exceptions_state", "control_exceptions", ["state"])
    op.create_index("ix_control_exceptions_severity", "control_exceptions", ["severity"])
    op.create_table(
        "control_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("control", sa.String(64), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("findings_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("worsened_count", sa.Integer(), nullable=False),
        sa.Column("closed_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
    )
    op.create_index("ix_control_runs_control", "control_runs", ["control"])
    op.create_index("ix_control_runs_ran_at", "control_runs", ["ran_at"])


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_index("ix_control_runs_ran_at", table_name="control_runs")
    op.drop_index("ix_control_runs_control", table_name="control_runs")
    op.drop_table("control_runs")
    op.drop_index("ix_control_exceptions_severity", table_name="control_exceptions")
    op.drop_index("ix_control_exceptions_state", table_name="control_exceptions")
    op.drop_table("control_exceptions")
