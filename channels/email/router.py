"""What each email is and where its result goes: a staff question, a supplier's email, or a customer's.

- From an internal domain (``COPILOT_INTERNAL_DOMAINS``): a **question**. The sender's own actor asks
  (their Odoo role decides); the answer goes back by SMTP to the From address only (never to a
  Reply-To, which anyone can set), threaded under the question. A sender without an Odoo user or
  without the right role gets a polite refusal that contains no data.
- From a vendor (a contact of a partner with purchase orders), or naming POs that Odoo resolves: a
  **supplier** email. The shared mailbox (``SharedMailbox``) ingests it (``Copilot.ingest_supplier_email``);
  the summary and the proposals it supports go to the responsible buyers (the POs' purchasers) through the
  injected notifier (their Slack DMs, else the buyer channel, else the outbox).
- A colleague forwarding a supplier's email: summarized with the colleague's own role, to the buyers.
  With ``COPILOT_MAIL_TRUSTED_AUTHSERV_IDS`` set, mail is from a colleague only when our mail server
  authenticated its From address (``copilot.email.auth``); otherwise it is handled as outside mail.
- Anything else from outside: a **customer** email, triaged, with a reply draft for an agent in the
  support channel. Nothing is ever sent to a customer or supplier.

Loops are avoided: the copilot's own messages, bounces and auto-submitted mail get no answer.

The router only decides where mail goes and translates outcomes: every Odoo read happens in the facade's use
cases (principal, company scope, audit record), and the headers it needs come parsed on ``InboundEmail``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Literal

from channels.email.notify import render_answer_text
from channels.email.smtp import SmtpSender, build_reply
from copilot.application import Delivery, Outbox, ResultNotifier, SharedMailbox, SupplierEmailOutcome
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.email.auth import authenticate_sender, parse_authserv_ids
from copilot.errors import AccessDenied, EmailParseError
from copilot.guardrails.message import message_context
from copilot.service import Copilot
from copilot.skills.draft_reply import DraftRequest
from copilot.skills.triage import TriageInput

__all__ = ["EmailKind", "EmailRouter", "Outcome", "internal_domains", "unreadable_reason"]

log = logging.getLogger(__name__)

EmailKind = Literal["question", "supplier", "customer", "ignored"]
_ROBOTS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply", "donotreply")
_SIGNATURE = re.compile(r"\n-- ?\n.*\Z", re.DOTALL)
MAX_QUESTION_CHARS = 4_000

REFUSAL = (
    "Hello,\n\nThank you for your question. This address answers questions from colleagues who have an "
    "Odoo account with access to purchasing or sales, and {reason}, so it cannot answer this one.\n\n"
    "Please ask your Odoo administrator for access, or contact the purchasing team directly.\n\n"
    "-- \nOdoo Ops Copilot"
)


@dataclass
class Outcome:
    """What the router did with one email."""

    kind: EmailKind
    detail: str
    deliveries: list[Delivery] = field(default_factory=list)


def internal_domains(settings: Settings) -> frozenset[str]:
    """The staff's email domains, lower case."""
    raw = settings.internal_domains or ""
    return frozenset(d.strip().lower().lstrip("@") for d in raw.split(",") if d.strip())


def unreadable_reason(email: InboundEmail) -> str | None:
    """Why a parsed email cannot be processed (parked at once), or None when it can."""
    if any(d.startswith("body looks like binary data") for d in email.defects):
        return "the body is binary data, not text: " + "; ".join(email.defects[:4])
    if not email.from_address:
        return "no readable sender address: " + ("; ".join(email.defects[:3]) or "From header missing")
    if not (email.text.strip() or email.subject.strip() or email.attachments):
        return "nothing to read: no subject, no text, no attachment"
    return None


class EmailRouter:
    """Routes a parsed email to a skill through ``Copilot`` and delivers the result."""

    def __init__(
        self,
        settings: Settings,
        copilot: Copilot,
        notifier: ResultNotifier,
        outbox: Outbox,
        *,
        smtp: SmtpSender | None = None,
    ) -> None:
        self.settings = settings
        self.copilot = copilot
        self.notifier = notifier
        self.outbox = outbox
        self.smtp = smtp if smtp is not None else (SmtpSender(settings) if settings.smtp_host else None)
        self.domains = internal_domains(settings)
        self.own_addresses = {a.lower() for a in (settings.mail_from, settings.imap_user) if a and "@" in a}
        self.from_address = settings.mail_from or settings.imap_user or "copilot@localhost"
        self.authserv_ids = parse_authserv_ids(settings.mail_trusted_authserv_ids)
        if not self.authserv_ids:
            log.warning(
                "sender authentication is not configured (COPILOT_MAIL_TRUSTED_AUTHSERV_IDS): From addresses are "
                "taken as written; set it to your receiving mail server's authserv-id"
            )

    def mailbox_actor(self, sender: str) -> SharedMailbox:
        """The shared mailbox processing one sender's mail (it may summarize, classify and draft; never more).

        The sender is part of its id, so the rate limit applies per outside sender: one flooding address is
        deferred while everyone else's mail goes on.
        """
        return SharedMailbox.for_sender(self.settings.imap_user or "copilot", sender)

    # -- routing ----------------------------------------------------------------------------
    def route(self, key: str, email: InboundEmail) -> Outcome:
        """Process one readable email; transient failures (Odoo, Slack, SMTP away) propagate to be retried."""
        sender = (email.from_address or "").lower()
        if not sender:
            raise EmailParseError("no sender address")
        if sender in self.own_addresses:
            return Outcome("ignored", "the copilot's own message")
        local = sender.split("@", 1)[0]
        if local in _ROBOTS or email.content_type == "multipart/report":
            return Outcome("ignored", "a bounce or robot message")
        if email.from_domain in self.domains and self._staff_unauthenticated(email):
            return self._external(key, email)  # anyone can write our domain in From: outside mail until proven
        if email.from_domain in self.domains:
            if email.is_automatic:
                return Outcome("ignored", f"auto-submitted ({email.auto_submitted}): no answer to robots")
            if email.forwarded:  # a colleague forwarding a supplier's email: summarized for them
                return self._forwarded(key, email)
            return self._question(key, email)
        return self._external(key, email)

    def _staff_unauthenticated(self, email: InboundEmail) -> bool:
        """True when sender authentication is configured and our mail server did not pass this From address."""
        auth = authenticate_sender(email.authentication_results, email.from_address, self.authserv_ids)
        if auth.status in ("pass", "not_configured"):
            return False
        log.warning("mail from a staff domain is not authenticated (%s): handled as outside mail", auth.reason)
        return True

    # -- questions --------------------------------------------------------------------------
    def _question(self, key: str, email: InboundEmail) -> Outcome:
        sender = email.from_address or ""
        question = _SIGNATURE.sub("", email.text).strip() or email.subject.strip()
        question = question[:MAX_QUESTION_CHARS]
        actor = self.copilot.actor_for(channel="email", external_id=sender, email=sender, name=email.from_name)
        references = email.references
        if actor.role is None:
            body = REFUSAL.format(reason="this address has no such account")
            detail = "refused: the sender is not a known Odoo user with a role"
        elif not question:
            body = "Hello,\n\nYour email had no question in it. Write the question in the body and send it again.\n"
            detail = "empty question"
        else:
            root = references.split()[0] if references.split() else (email.message_id or key)
            thread = f"email:{sender}:{root}"[:200]
            try:
                answer = self.copilot.ask(actor, question, thread=thread)
            except AccessDenied as exc:
                body = REFUSAL.format(reason=f"your access does not include questions ({exc})")
                detail = f"refused: {exc}"
            else:
                body = render_answer_text(self.settings, answer)
                detail = f"answered ({answer.intent.value}, {len(answer.citations)} source(s))"
        reply = build_reply(
            to=sender,
            from_addr=self.from_address,
            subject=email.subject,
            body=body,
            message_id=email.message_id,
            references=references,
        )
        delivery = self._send(key, reply, sender)
        return Outcome("question", f"{detail}; reply {delivery.target}", [delivery])

    def _forwarded(self, key: str, email: InboundEmail) -> Outcome:
        sender = email.from_address or ""
        actor = self.copilot.actor_for(channel="email", external_id=sender, email=sender, name=email.from_name)
        try:
            outcome = self.copilot.ingest_supplier_email(actor, email)
        except AccessDenied as exc:
            reply = build_reply(
                to=sender,
                from_addr=self.from_address,
                subject=email.subject,
                body=REFUSAL.format(reason=f"your access does not include supplier emails ({exc})"),
                message_id=email.message_id,
                references=email.references,
            )
            delivery = self._send(key, reply, sender)
            return Outcome("question", f"forward refused: {exc}; reply {delivery.target}", [delivery])
        deliveries, pos, where = self._notify_buyers(key, email, outcome)
        return Outcome("supplier", f"forwarded by {sender}: summary of {pos} -> {where}", deliveries)

    def _notify_buyers(
        self, key: str, email: InboundEmail, outcome: SupplierEmailOutcome
    ) -> tuple[list[Delivery], str, str]:
        """Hand a supplier email's outcome to the notifier; (deliveries, the POs, where it went) for the log."""
        assert outcome.summary is not None
        summary = outcome.summary
        deliveries = self.notifier.supplier_summary(key, email, summary, outcome.proposals, outcome.recipients)
        pos = ", ".join(po.name for po in summary.purchase_orders) or "no PO"
        where = ", ".join(d.target for d in deliveries) or "already delivered"
        return deliveries, pos, where

    def _send(self, key: str, reply: Message, to: str) -> Delivery:
        target = f"smtp:{to}" if self.smtp is not None else "outbox"
        if self.outbox.delivered(key, target):
            return Delivery(kind="email_reply", target=target, text="already sent", id=0)
        if self.smtp is not None:
            self.smtp.send(reply)  # type: ignore[arg-type]
        else:
            log.info("no COPILOT_SMTP_HOST: the answer is kept in the local outbox")
        return self.outbox.record(
            key,
            kind="email_reply",
            target=target,
            text=str(reply["Subject"]),
            data={"to": to, "message": reply.as_string()},
        )

    # -- supplier and customer mail ---------------------------------------------------------
    def _external(self, key: str, email: InboundEmail) -> Outcome:
        sender = email.from_address or ""
        actor = self.mailbox_actor(sender)
        outcome = self.copilot.ingest_supplier_email(actor, email)
        if outcome.supplier:
            deliveries, pos, where = self._notify_buyers(key, email, outcome)
            detail = f"summary of {pos} with {len(outcome.proposals)} proposal(s) -> {where}"
            return Outcome("supplier", detail, deliveries)
        text = email.text or email.subject
        context = message_context(email)  # the sender's name, quoted text, attachments: checked, never answered
        classification = self.copilot.classify(
            actor, TriageInput(subject=email.subject[:1000], body=text, customer=sender, context=context)
        )
        draft = self.copilot.draft(
            actor, DraftRequest(message=text, subject=email.subject, sender_email=sender, context=context)
        )
        deliveries = self.notifier.customer_draft(key, email, classification, draft)
        where = ", ".join(d.target for d in deliveries) or "already delivered"
        return Outcome("customer", f"triaged and drafted ({draft.status}, not sent) -> {where}", deliveries)
