"""Baseline: the tables as the copilot created them before migrations (``create_all``), created where missing.

A data dir written before the migrations holds some of these tables already (each store created its own
on first use): those are kept as they are, with their rows, and only the missing ones are created. The
audit table refuses UPDATE and DELETE (SQLite and PostgreSQL triggers).

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _conversation_turns() -> None:
    op.create_table(
        "conversation_turns",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("thread", sa.String(200), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(40), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("engine", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conversation_turns_thread", "conversation_turns", ["thread"])


def _dead_letters() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("error_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", _TZ, nullable=False),
        sa.Column("last_seen", _TZ, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("replayed_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "key", name="uq_dead_letters_channel_key"),
    )
    op.create_index("ix_dead_letters_channel", "dead_letters", ["channel"])
    op.create_index("ix_dead_letters_status", "dead_letters", ["status"])


def _email_ledger() -> None:
    op.create_table(
        "email_ledger",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("folder", sa.String(300), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_seen", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_email_ledger_uid", "email_ledger", ["uid"])
    op.create_index("ix_email_ledger_status", "email_ledger", ["status"])


def _email_outbox() -> None:
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("message_key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("slack_ts", sa.String(40), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_email_outbox_message_key", "email_outbox", ["message_key"])


def _slack_seen() -> None:
    op.create_table(
        "slack_seen",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("seen_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_slack_seen_seen_at", "slack_seen", ["seen_at"])


def _slack_proposals() -> None:
    op.create_table(
        "slack_proposals",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_slack_proposals_created_at", "slack_proposals", ["created_at"])


def _webhook_events() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id"),
        sa.UniqueConstraint("source", "signature", name="uq_webhook_events_signature"),
    )
    op.create_index("ix_webhook_events_created_at", "webhook_events", ["created_at"])


def _http_idempotency() -> None:
    op.create_table(
        "http_idempotency",
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("client", "key"),
    )
    op.create_index("ix_http_idempotency_created_at", "http_idempotency", ["created_at"])


def _audit_records() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("actor_role", sa.String(60), nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("skill", sa.String(60), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("prompt", sa.JSON(), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("tool_calls", sa.JSON(), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("proposals", sa.JSON(), nullable=False),
        sa.Column("approval_ids", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_audit_records_request_id", "audit_records", ["request_id"])
    op.create_index("ix_audit_records_created_at", "audit_records", ["created_at"])
    op.create_index("ix_audit_records_actor", "audit_records", ["actor"])


_TABLES: dict[str, Callable[[], None]] = {
    "conversation_turns": _conversation_turns,
    "dead_letters": _dead_letters,
    "email_ledger": _email_ledger,
    "email_outbox": _email_outbox,
    "slack_seen": _slack_seen,
    "slack_proposals": _slack_proposals,
    "webhook_events": _webhook_events,
    "http_idempotency": _http_idempotency,
    "audit_records": _audit_records,
}

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records "
    "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_records_no_delete BEFORE DELETE ON audit_records "
    "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
)
_POSTGRESQL_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$",
    "CREATE TRIGGER audit_records_no_update BEFORE UPDATE OR DELETE ON audit_records "
    "FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
)


def upgrade() -> None:
    """Create the tables a data dir does not have yet, and the audit table's append-only triggers."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, create in _TABLES.items():
        if name not in existing:
            create()
    if bind.dialect.name == "sqlite":
        for ddl in _SQLITE_TRIGGERS:
            op.execute(ddl)
    elif bind.dialect.name == "postgresql" and "audit_records" not in existing:
        for ddl in _POSTGRESQL_TRIGGERS:
            op.execute(ddl)


def downgrade() -> None:
    """Drop every table (and with them their rows)."""
    bind = op.get_bind()
    for name in reversed(_TABLES):
        op.drop_table(name)
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_records_append_only()")
