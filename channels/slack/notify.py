"""The Slack side of the mailbox's results: a ``ResultNotifier`` that posts to the buyer's DM or a channel.

The process assembly (``channels.serve``) injects it into the email channel, which knows only the port
(``copilot.application.ResultNotifier``). Every delivery is recorded in the outbox (``copilot.application.Outbox``)
with the message key and its target, so a retried message never posts twice to a target it already reached;
without a bot token (or a channel for a result) the outbox row is the delivery. Citations link to the Odoo
records (when an Odoo URL is set), and the "Propose this action" buttons carry
``{"proposal_key": ..., "source": "email"}``, which the Slack app resolves with ``Outbox.proposal(key)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from channels.slack import blocks as ui
from copilot.application import Delivery, NotifierUnavailable, Outbox
from copilot.approvals import Proposal
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.errors import CopilotError
from copilot.skills.draft_reply import ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification

__all__ = ["SlackNotifier", "SlackUnavailable"]

log = logging.getLogger(__name__)


class SlackUnavailable(NotifierUnavailable):
    """Slack's Web API could not be reached or refused the call for now (rate limit, server error)."""


# -- rendering ---------------------------------------------------------------------------------------
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


# -- delivery -------------------------------------------------------------------------------------
class SlackNotifier:
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

    def post(
        self, key: str, *, kind: str, target: str | None, text: str, blocks: list[dict[str, Any]], data: dict[str, Any]
    ) -> list[Delivery]:
        """Post one message to ``target`` (a channel, or ``dm:<user>``), once per key; the outbox without Slack.

        Raises ``SlackUnavailable`` (worth retrying) or a refusal (``CopilotError``: bad token, unknown channel).
        """
        targets = [target] if self.slack is not None and target else []
        return self._deliver(key, kind, targets, text, blocks, data)

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
