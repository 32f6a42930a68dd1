"""Where the mailbox's results go: the buyer's Slack DM, the support channel, or the local outbox.

Every delivery is recorded in the outbox table (``email_outbox``) with the message key and its target, so
that a retried message never posts twice to a target it already reached. Without Slack (or without a
channel for a result) the outbox row is the delivery: the offline default still keeps every result,
and the log says where it went. The Slack messages are rendered by ``channels.slack.blocks`` (the one
Block Kit renderer): citations link to the Odoo records (when an Odoo URL is set), and the "Propose this
action" buttons carry ``{"proposal_key": ..., "source": "email"}``, which the Slack app resolves with
``Outbox.proposal(key)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from channels.slack import blocks as ui
from channels.slack.blocks import PROPOSE_ACTION_ID
from copilot.approvals import Proposal
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.errors import CopilotError
from copilot.skills.answer import Answer
from copilot.skills.draft_reply import ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification
from copilot.state.database import Store
from copilot.state.tables import OutboxRow

__all__ = [
    "PROPOSE_ACTION_ID",
    "Delivery",
    "Notifier",
    "Outbox",
    "OutboxRow",
    "SlackUnavailable",
    "render_answer_text",
]

log = logging.getLogger(__name__)


class SlackUnavailable(CopilotError):
    """Slack's Web API could not be reached or refused the call for now (rate limit, server error)."""


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


# -- rendering (Block Kit from channels.slack.blocks; the email answer is plain text) ---------------
_CHATTER_NOTE = "Logging this on the PO's chatter is a write: use a proposal, people decide in Odoo."


def _odoo_url(settings: Settings) -> str | None:
    return str(settings.odoo_url) if settings.odoo_url is not None else None


def _supplier_message(
    settings: Settings, email: InboundEmail, summary: SupplierEmailSummary, proposals: list[Proposal]
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for a buyer: the summary, with "Propose this action" buttons for the outbox."""
    odoo_url = _odoo_url(settings)
    who = ui.sender(email.from_name, email.from_address)
    pos = ", ".join(ui.citation_link(p.citation, odoo_url) for p in summary.purchase_orders) or "no PO found in Odoo"
    text = f"Supplier email from {who} about {pos}: {ui.escape(summary.summary)}"
    blocks = ui.summary_blocks(summary, proposals, odoo_url=odoo_url, source="email")
    blocks.insert(1, ui.context_block(f"Received in the mailbox from {who}"))
    blocks.append(ui.context_block(_CHATTER_NOTE))
    return text[:3000], blocks[: ui.MAX_BLOCKS]


def _customer_message(
    settings: Settings, email: InboundEmail, classification: TicketClassification, draft: ReplyDraft
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for an agent: who wrote, triage labels, the reply draft (not sent)."""
    odoo_url = _odoo_url(settings)
    who = ui.sender(email.from_name, email.from_address)
    text = f"Customer email from {who}: draft reply ({draft.status.replace('_', ' ')}), not sent"
    blocks = [
        ui.email_header_block(
            "Customer email", from_name=email.from_name, from_address=email.from_address, subject=email.subject
        ),
        *ui.classification_blocks(classification, odoo_url=odoo_url),
        *ui.draft_blocks(draft, odoo_url=odoo_url),
    ]
    return text[:3000], blocks[: ui.MAX_BLOCKS]


def render_answer_text(settings: Settings, answer: Answer) -> str:
    """The body of an email answer: the answer, then its sources (with links when an Odoo URL is set)."""
    lines = [answer.text.strip(), ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            url = ui.record_url(_odoo_url(settings), c.model, c.id)
            lines.append(f"- {c.display_name} ({c.model} {c.id})" + (f" {url}" if url else ""))
        lines.append("")
    lines.append("-- \nOdoo Ops Copilot: answered from Odoo; reply to this email to ask a follow-up.")
    return "\n".join(lines)


# -- delivery -------------------------------------------------------------------------------------
class Notifier:
    """Posts results to Slack (bot token configured) or records them in the outbox."""

    def __init__(self, settings: Settings, outbox: Outbox, *, slack_client: Any | None = None) -> None:
        self.settings = settings
        self.outbox = outbox
        self.slack = slack_client
        if self.slack is None and settings.slack_bot_token is not None:
            from slack_sdk import WebClient

            self.slack = WebClient(
                token=settings.slack_bot_token.get_secret_value(), base_url=str(settings.slack_api_url), timeout=15
            )

    def supplier_summary(
        self,
        key: str,
        email: InboundEmail,
        summary: SupplierEmailSummary,
        proposals: list[Proposal],
        buyer_emails: list[str],
    ) -> list[Delivery]:
        """Post the summary to each buyer's DM (fallback: the buyer channel, then the outbox)."""
        text, blocks = _supplier_message(self.settings, email, summary, proposals)
        data = {
            "blocks": blocks,
            "summary": summary.model_dump(mode="json"),
            "proposals": [p.model_dump(mode="json") for p in proposals],
            "buyers": buyer_emails,
        }
        targets: list[str] = []
        if self.slack is not None:
            for address in buyer_emails:
                user = self._slack_user(address)
                if user is not None:
                    targets.append(f"dm:{user}")
            if not targets and self.settings.slack_buyer_channel:
                targets.append(self.settings.slack_buyer_channel)
        return self._deliver(key, "supplier_summary", targets, text, blocks, data)

    def customer_draft(
        self, key: str, email: InboundEmail, classification: TicketClassification, draft: ReplyDraft
    ) -> list[Delivery]:
        """Post triage and draft to the support channel (never to the customer)."""
        text, blocks = _customer_message(self.settings, email, classification, draft)
        data = {
            "blocks": blocks,
            "classification": classification.model_dump(mode="json"),
            "draft": draft.model_dump(mode="json"),
            "from": email.from_address,
        }
        targets = [self.settings.slack_support_channel] if self.slack and self.settings.slack_support_channel else []
        return self._deliver(key, "customer_draft", targets, text, blocks, data)

    def _deliver(
        self, key: str, kind: str, targets: list[str], text: str, blocks: list[dict[str, Any]], data: dict[str, Any]
    ) -> list[Delivery]:
        out: list[Delivery] = []
        if not targets:
            if not self.outbox.delivered(key, "outbox"):
                out.append(self.outbox.record(key, kind=kind, target="outbox", text=text, data=data))
                log.info("%s kept in the local outbox (no Slack target configured)", kind)
            return out
        for target in targets:
            if self.outbox.delivered(key, f"slack:{target}"):
                continue  # a retry after a partial failure: this target already has it
            channel = self._open_dm(target.removeprefix("dm:")) if target.startswith("dm:") else target
            response = self._slack(
                "chat.postMessage",
                lambda c, to=channel: c.chat_postMessage(channel=to, text=text, blocks=blocks, unfurl_links=False),
            )
            ts = str(response.get("ts") or "") or None
            out.append(self.outbox.record(key, kind=kind, target=f"slack:{target}", text=text, data=data, slack_ts=ts))
            log.info("%s posted to Slack %s", kind, target)
        return out

    # -- Slack calls ------------------------------------------------------------------------
    def _slack_user(self, address: str) -> str | None:
        try:
            response = self._slack("users.lookupByEmail", lambda c: c.users_lookupByEmail(email=address))
        except _SlackRefused as exc:
            if exc.error in ("users_not_found", "user_not_found"):
                return None
            raise
        user = response.get("user") or {}
        if user.get("deleted") or user.get("is_bot"):
            return None
        return str(user.get("id")) if user.get("id") else None

    def _open_dm(self, user_id: str) -> str:
        response = self._slack("conversations.open", lambda c: c.conversations_open(users=user_id))
        return str((response.get("channel") or {}).get("id"))

    def _slack(self, method: str, call: Callable[[Any], Any]) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError, SlackClientError

        assert self.slack is not None
        try:
            response = call(self.slack)  # the SDK's own method: the encoding Slack expects for it
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown_error") if exc.response is not None else "unknown_error"
            status = getattr(exc.response, "status_code", 200) if exc.response is not None else 0
            if error in ("ratelimited", "service_unavailable", "internal_error", "request_timeout") or status >= 500:
                raise SlackUnavailable(f"Slack {method}: {error}") from exc
            raise _SlackRefused(method, error) from exc
        except (SlackClientError, OSError) as exc:
            raise SlackUnavailable(f"Slack {method} unreachable: {exc}") from exc
        return dict(response.data) if isinstance(response.data, dict) else {}


class _SlackRefused(CopilotError):
    """Slack answered ``ok: false`` with an error that retrying will not fix (bad token, unknown channel)."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"Slack {method} refused: {error}")
        self.error = error
