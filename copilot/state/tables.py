"""Every table the copilot keeps, on one declarative ``Base`` (one ``MetaData``): the schema Alembic migrates.

The stores (``copilot.state``, ``copilot.audit``, ``channels.*``) read and write these rows; a change here
needs a migration in ``copilot/state/migrations/versions`` (``tests/unit/test_migrations.py`` fails
otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from copilot.state.schemas import MAX_THREAD_CHARS

__all__ = [
    "AUDIT_LEGACY_VERSION",
    "MAX_KEY_CHARS",
    "AuditRow",
    "Base",
    "ControlRunRow",
    "DeadLetterRow",
    "ExceptionRow",
    "IdempotencyRow",
    "LedgerRow",
    "OutboxRow",
    "SeenRow",
    "StashedProposalRow",
    "TurnRow",
    "WebhookEventRow",
]

#: Longest message key of the email ledger.
MAX_KEY_CHARS = 500
#: ``version`` of an audit record hashed with plain SHA-256 (written before the chain was keyed).
AUDIT_LEGACY_VERSION = 1


class Base(DeclarativeBase):
    """Declarative base of every table the copilot keeps."""

    metadata = MetaData()


class TurnRow(Base):
    """A stored conversation turn (table ``conversation_turns``)."""

    __tablename__ = "conversation_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread: Mapped[str] = mapped_column(String(MAX_THREAD_CHARS), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    question: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(40))
    entities: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(120))


class DeadLetterRow(Base):
    """A stored dead letter (table ``dead_letters``)."""

    __tablename__ = "dead_letters"
    __table_args__ = (UniqueConstraint("channel", "key", name="uq_dead_letters_channel_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    error_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), index=True, default="parked")
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LedgerRow(Base):
    """One message seen in the mailbox (table ``email_ledger``)."""

    __tablename__ = "email_ledger"

    key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS), primary_key=True)
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The worker processing the message now (a Celery task id, a process token), until ``claimed_until``.
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class OutboxRow(Base):
    """One delivery of a mailbox result (table ``email_outbox``)."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(500), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    slack_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeenRow(Base):
    """A Slack delivery already accepted (table ``slack_seen``)."""

    __tablename__ = "slack_seen"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: When the delivery was queued (or started in the replica); NULL: accepted, not handed over yet.
    handed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StashedProposalRow(Base):
    """A proposal offered in a Slack message (table ``slack_proposals``)."""

    __tablename__ = "slack_proposals"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    proposal: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class WebhookEventRow(Base):
    """A received webhook event and its outcome (table ``webhook_events``)."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("source", "signature", name="uq_webhook_events_signature"),)

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: SHA-256 of the signature header: the same signed request again is a duplicate.
    signature: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # accepted, done, failed
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float] = mapped_column(Float)
    #: The worker running the event now (a Celery task id), until ``claimed_until`` (Unix seconds).
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: When the replica handed the event to the queue (Unix seconds); NULL: claimed, not queued yet.
    queued_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class IdempotencyRow(Base):
    """A stored response to an ``Idempotency-Key`` POST (table ``http_idempotency``)."""

    __tablename__ = "http_idempotency"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: the first request still runs
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)


class AuditRow(Base):
    """A stored audit record (table ``audit_records``; append-only, see ``copilot.audit.trail``)."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(300), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(60), nullable=True)
    channel: Mapped[str] = mapped_column(String(40))
    skill: Mapped[str] = mapped_column(String(60))
    input_hash: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[Any] = mapped_column(JSON, nullable=True)
    model: Mapped[str] = mapped_column(String(200))
    tool_calls: Mapped[Any] = mapped_column(JSON)
    verdicts: Mapped[Any] = mapped_column(JSON)
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    proposals: Mapped[Any] = mapped_column(JSON)
    approval_ids: Mapped[Any] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, server_default=str(AUDIT_LEGACY_VERSION))


class ExceptionRow(Base):
    """One tracked exception of a scheduled control (table ``control_exceptions``), keyed by (control, key)."""

    __tablename__ = "control_exceptions"

    control: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open, acknowledged, snoozed, closed
    severity: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float] = mapped_column(Float)
    #: The latest ``Finding`` as JSON (title, reason, record, evidence, factors, details).
    finding: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_sent: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sent_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ControlRunRow(Base):
    """One run of a scheduled control and what it found (table ``control_runs``)."""

    __tablename__ = "control_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    control: Mapped[str] = mapped_column(String(64), index=True)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    duration_s: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, error
    findings_count: Mapped[int] = mapped_column(Integer, default=0)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    worsened_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The run as JSON (``ControlRun``: findings, deliveries, closed keys).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
