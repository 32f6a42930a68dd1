"""Ports the channels implement and the process assembly injects, so no channel imports another."""

from __future__ import annotations

from typing import Protocol

from copilot.application.outbox import Delivery
from copilot.approvals import Proposal
from copilot.email import InboundEmail
from copilot.errors import CopilotError
from copilot.skills.draft_reply import ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification

__all__ = ["NotifierUnavailable", "ResultNotifier"]


class NotifierUnavailable(CopilotError):
    """Where results go (e.g. Slack's Web API) cannot be reached for now: worth retrying later."""


class ResultNotifier(Protocol):
    """Delivers the mailbox's results to people (Slack, or the outbox without it); never to the sender."""

    def supplier_summary(
        self,
        key: str,
        email: InboundEmail,
        summary: SupplierEmailSummary,
        proposals: list[Proposal],
        buyer_emails: list[str],
    ) -> list[Delivery]:
        """Deliver a supplier email's summary and proposals to its buyers."""
        ...

    def customer_draft(
        self, key: str, email: InboundEmail, classification: TicketClassification, draft: ReplyDraft
    ) -> list[Delivery]:
        """Deliver a customer email's triage and reply draft to the support agents."""
        ...
