"""Read-only queries on the run's PostgreSQL: the ledgers, the outbox, the audit trail and the dead letters.

They use the project's own table definitions (``copilot.state.tables``), so a schema change shows here.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from copilot.state.tables import AuditRow, DeadLetterRow, LedgerRow, OutboxRow, SeenRow, WebhookEventRow

__all__ = ["Backlog", "DeadLetterInfo", "EmailState", "Ledgers", "WebhookState"]

FINISHED = ("done", "failed")


@dataclass(frozen=True)
class WebhookState:
    """One webhook event as the ledger knows it."""

    event_id: str
    status: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class EmailState:
    """One mailbox message as the ledger knows it."""

    key: str
    status: str
    updated_at: float


@dataclass(frozen=True)
class DeadLetterInfo:
    """One parked item."""

    channel: str
    key: str
    error_type: str
    reason: str


@dataclass(frozen=True)
class Backlog:
    """Accepted webhooks not finished yet: how many, and how long the oldest has waited."""

    pending: int
    oldest_age: float


class Ledgers:
    """Queries on one database (``postgresql+psycopg://...``)."""

    def __init__(self, url: str, source: str) -> None:
        self.engine: Engine = create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True)
        self.source = source

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def webhooks_finished(self, prefix: str) -> int:
        """Events with ids ``<prefix>-*`` that are done or failed."""
        query = select(func.count()).where(
            WebhookEventRow.source == self.source,
            WebhookEventRow.event_id.like(f"{prefix}-%"),
            WebhookEventRow.status.in_(FINISHED),
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def webhooks(self) -> dict[str, WebhookState]:
        """Every event of the run's source."""
        query = select(
            WebhookEventRow.event_id, WebhookEventRow.status, WebhookEventRow.created_at, WebhookEventRow.updated_at
        ).where(WebhookEventRow.source == self.source)
        with self.engine.connect() as conn:
            return {row[0]: WebhookState(*row) for row in conn.execute(query)}

    def backlog(self) -> Backlog:
        """Accepted webhooks not finished, and the age of the oldest."""
        query = select(func.count(), func.min(WebhookEventRow.created_at)).where(
            WebhookEventRow.source == self.source, WebhookEventRow.status.not_in(FINISHED)
        )
        with self.engine.connect() as conn:
            count, oldest = conn.execute(query).one()
        return Backlog(int(count), time.time() - float(oldest) if oldest is not None else 0.0)

    def emails_finished(self) -> int:
        """Messages recorded done or parked."""
        query = select(func.count()).where(LedgerRow.status.in_(("done", "parked")))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def emails(self) -> dict[str, EmailState]:
        """Every message of the email ledger."""
        query = select(LedgerRow.key, LedgerRow.status, LedgerRow.updated_at)
        with self.engine.connect() as conn:
            return {key: EmailState(key, status, updated.timestamp()) for key, status, updated in conn.execute(query)}

    def outbox(self) -> Counter[tuple[str, str]]:
        """Deliveries by (message key, target): more than one for a pair is a repeated delivery."""
        query = select(OutboxRow.message_key, OutboxRow.target)
        with self.engine.connect() as conn:
            return Counter((key, target) for key, target in conn.execute(query))

    def audit(self, *, failed: bool = False) -> Counter[tuple[str, str]]:
        """Audit records of successful requests (``failed``: of refused or failed ones) by (channel, input hash)."""
        outcome = AuditRow.error.is_not(None) if failed else AuditRow.error.is_(None)
        query = select(AuditRow.channel, AuditRow.input_hash).where(outcome)
        with self.engine.connect() as conn:
            return Counter((channel, digest) for channel, digest in conn.execute(query))

    def slack_seen(self) -> set[str]:
        """The Slack dedupe keys."""
        with self.engine.connect() as conn:
            return {key for (key,) in conn.execute(select(SeenRow.key))}

    def dead_letters(self) -> list[DeadLetterInfo]:
        """Everything parked."""
        query = select(DeadLetterRow.channel, DeadLetterRow.key, DeadLetterRow.error_type, DeadLetterRow.reason)
        with self.engine.connect() as conn:
            return [DeadLetterInfo(*row) for row in conn.execute(query)]
