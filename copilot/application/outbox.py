"""Where the mailbox's results went: the outbox table (``email_outbox``), shared by the channels that deliver them.

Every delivery is recorded with the message key and its target, so a retried message never reaches a target
twice. Without a Slack target the outbox row is the delivery (the offline default keeps every result). The
Slack channel's "Propose this action" button on a mailbox summary finds its proposal here (``proposal``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from copilot.approvals import Proposal
from copilot.email import InboundEmail
from copilot.skills.draft_reply import ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification
from copilot.state.database import Store
from copilot.state.tables import OutboxRow

__all__ = ["Delivery", "Outbox", "OutboxNotifier", "OutboxRow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """Where one result went: ``slack:<channel>``, ``outbox`` or ``smtp:<address>``."""

    kind: str
    target: str
    text: str
    id: int


class Outbox(Store):
    """Deliveries of the mailbox's results, in the project's database."""

    def delivered(self, message_key: str, target: str) -> bool:
        """True when the message's result already reached ``target``."""
        query = select(OutboxRow.id).where(OutboxRow.message_key == message_key, OutboxRow.target == target)
        with self.db.session() as session:
            return session.scalars(query).first() is not None

    def record(
        self, message_key: str, *, kind: str, target: str, text: str, data: dict[str, Any], slack_ts: str | None = None
    ) -> Delivery:
        """Store one delivery."""
        row = OutboxRow(
            message_key=message_key,
            kind=kind,
            target=target,
            text=text,
            data=data,
            slack_ts=slack_ts,
            created_at=datetime.now(UTC),
        )
        with self.db.session() as session, session.begin():
            session.add(row)
            session.flush()
            return Delivery(kind=kind, target=target, text=text, id=row.id)

    def entries(self, *, kind: str | None = None, message_key: str | None = None) -> list[Delivery]:
        """Deliveries, oldest first."""
        query = select(OutboxRow).order_by(OutboxRow.id)
        if kind is not None:
            query = query.where(OutboxRow.kind == kind)
        if message_key is not None:
            query = query.where(OutboxRow.message_key == message_key)
        with self.db.session() as session:
            return [Delivery(kind=r.kind, target=r.target, text=r.text, id=r.id) for r in session.scalars(query)]

    def data(self, delivery_id: int) -> dict[str, Any]:
        """The stored payload of one delivery (blocks, proposals, the email sent)."""
        with self.db.session() as session:
            row = session.get(OutboxRow, delivery_id)
            return dict(row.data) if row is not None else {}

    def proposal(self, key: str) -> Proposal | None:
        """The proposal with idempotency key ``key`` from a posted supplier summary (for the Slack button)."""
        query = select(OutboxRow).where(OutboxRow.kind == "supplier_summary").order_by(OutboxRow.id.desc())
        with self.db.session() as session:
            for row in session.scalars(query):
                for item in (row.data or {}).get("proposals", []):
                    if item.get("idempotency_key") == key:
                        data = {k: v for k, v in item.items() if k != "idempotency_key"}
                        return Proposal.model_validate(data)
        return None


class OutboxNotifier:
    """A ``ResultNotifier`` with nowhere else to deliver: each result is kept in the outbox (no Slack)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def supplier_summary(
        self,
        key: str,
        email: InboundEmail,
        summary: SupplierEmailSummary,
        proposals: list[Proposal],
        buyer_emails: list[str],
    ) -> list[Delivery]:
        """Keep the summary, its proposals and its buyers in the outbox."""
        text = f"Supplier email from {email.from_address or '?'}: {summary.summary}"[:3000]
        data = {
            "summary": summary.model_dump(mode="json"),
            "proposals": [p.model_dump(mode="json") for p in proposals],
            "buyers": buyer_emails,
        }
        return self._keep(key, "supplier_summary", text, data)

    def customer_draft(
        self, key: str, email: InboundEmail, classification: TicketClassification, draft: ReplyDraft
    ) -> list[Delivery]:
        """Keep the triage and the reply draft (never sent) in the outbox."""
        text = f"Customer email from {email.from_address or '?'}: draft reply ({draft.status}), not sent"
        data = {
            "classification": classification.model_dump(mode="json"),
            "draft": draft.model_dump(mode="json"),
            "from": email.from_address,
        }
        return self._keep(key, "customer_draft", text, data)

    def _keep(self, key: str, kind: str, text: str, data: dict[str, Any]) -> list[Delivery]:
        if self.outbox.delivered(key, "outbox"):
            return []
        log.info("%s kept in the local outbox (no notifier configured)", kind)
        return [self.outbox.record(key, kind=kind, target="outbox", text=text, data=data)]
