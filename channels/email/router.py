"""What each email is and where its result goes: a staff question, a supplier's email, or a customer's.

- From an internal domain (``COPILOT_INTERNAL_DOMAINS``): a **question**. The sender's own actor asks
  (their Odoo role decides); the answer goes back by SMTP to the From address only (never to a
  Reply-To, which anyone can set), threaded under the question. A sender without an Odoo user or
  without the right role gets a polite refusal that contains no data.
- From a vendor (a contact of a partner with purchase orders), or naming POs that Odoo resolves: a
  **supplier** email. The shared mailbox's service actor summarizes it; the summary and the proposals it
  supports go to the responsible buyer's Slack DM (the PO's purchaser), else the buyer channel.
- A colleague forwarding a supplier's email: summarized with the colleague's own role, to the buyers.
  With ``COPILOT_MAIL_TRUSTED_AUTHSERV_IDS`` set, mail is from a colleague only when our mail server
  authenticated its From address (``copilot.email.auth``); otherwise it is handled as outside mail.
- Anything else from outside: a **customer** email, triaged, with a reply draft for an agent in the
  support channel. Nothing is ever sent to a customer or supplier.

Loops are avoided: the copilot's own messages, bounces and auto-submitted mail get no answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import Literal

from channels.email.notify import Delivery, Notifier, Outbox, render_answer_text
from channels.email.smtp import SmtpSender, build_reply
from copilot.approvals import proposals_from_supplier_email
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.email.auth import authenticate_sender, parse_authserv_ids
from copilot.errors import AccessDenied, EmailParseError
from copilot.guardrails.message import message_context
from copilot.identity import Actor
from copilot.service import Copilot
from copilot.skills.draft_reply import DraftRequest
from copilot.skills.triage import TriageInput
from copilot.text.references import PO_REF
from copilot.tools.addresses import addresses_in, exact_address_domain, normalise_address

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


def _headers(raw: bytes) -> Message:
    return BytesHeaderParser(policy=default_policy).parsebytes(raw)


def _header(headers: Message, name: str) -> str:
    try:
        return str(headers.get(name) or "")
    except Exception:  # a malformed header is simply absent for routing
        return ""


class EmailRouter:
    """Routes a parsed email to a skill through ``Copilot`` and delivers the result."""

    def __init__(
        self,
        settings: Settings,
        copilot: Copilot,
        notifier: Notifier,
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

    def mailbox_actor(self, sender: str) -> Actor:
        """The shared mailbox processing one sender's mail: a service actor that may summarize, classify and draft.

        The sender is part of its id, so the rate limit applies per outside sender: one flooding address is
        deferred while everyone else's mail goes on.
        """
        mailbox = self.settings.imap_user or "copilot"
        return Actor(channel="email", external_id=f"mailbox:{mailbox}:{sender.lower()}", role=None)

    # -- routing ----------------------------------------------------------------------------
    def route(self, key: str, raw: bytes, email: InboundEmail) -> Outcome:
        """Process one readable email; transient failures (Odoo, Slack, SMTP away) propagate to be retried."""
        sender = (email.from_address or "").lower()
        if not sender:
            raise EmailParseError("no sender address")
        headers = _headers(raw)
        if sender in self.own_addresses:
            return Outcome("ignored", "the copilot's own message")
        local = sender.split("@", 1)[0]
        if local in _ROBOTS or _header(headers, "Content-Type").lower().startswith("multipart/report"):
            return Outcome("ignored", "a bounce or robot message")
        if email.from_domain in self.domains and self._staff_unauthenticated(email):
            return self._external(key, email)  # anyone can write our domain in From: outside mail until proven
        if email.from_domain in self.domains:
            auto = _header(headers, "Auto-Submitted").strip().lower()
            if auto and auto != "no":
                return Outcome("ignored", f"auto-submitted ({auto}): no answer to robots")
            if email.forwarded:  # a colleague forwarding a supplier's email: summarized for them
                return self._forwarded(key, headers, email)
            return self._question(key, headers, email)
        return self._external(key, email)

    def _staff_unauthenticated(self, email: InboundEmail) -> bool:
        """True when sender authentication is configured and our mail server did not pass this From address."""
        auth = authenticate_sender(email.authentication_results, email.from_address, self.authserv_ids)
        if auth.status in ("pass", "not_configured"):
            return False
        log.warning("mail from a staff domain is not authenticated (%s): handled as outside mail", auth.reason)
        return True

    # -- questions --------------------------------------------------------------------------
    def _question(self, key: str, headers: Message, email: InboundEmail) -> Outcome:
        sender = email.from_address or ""
        question = _SIGNATURE.sub("", email.text).strip() or email.subject.strip()
        question = question[:MAX_QUESTION_CHARS]
        actor = self.copilot.actor_for(channel="email", external_id=sender, email=sender, name=email.from_name)
        references = _header(headers, "References")
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

    def _forwarded(self, key: str, headers: Message, email: InboundEmail) -> Outcome:
        sender = email.from_address or ""
        actor = self.copilot.actor_for(channel="email", external_id=sender, email=sender, name=email.from_name)
        try:
            summary = self.copilot.summarize(actor, email)
        except AccessDenied as exc:
            reply = build_reply(
                to=sender,
                from_addr=self.from_address,
                subject=email.subject,
                body=REFUSAL.format(reason=f"your access does not include supplier emails ({exc})"),
                message_id=email.message_id,
                references=_header(headers, "References"),
            )
            delivery = self._send(key, reply, sender)
            return Outcome("question", f"forward refused: {exc}; reply {delivery.target}", [delivery])
        proposals = proposals_from_supplier_email(summary, self.copilot.odoo.client, on_behalf_of=sender)
        buyers = self._buyers([po.id for po in summary.purchase_orders]) or [sender]
        deliveries = self.notifier.supplier_summary(key, email, summary, proposals, buyers)
        pos = ", ".join(po.name for po in summary.purchase_orders) or "no PO"
        where = ", ".join(d.target for d in deliveries) or "already delivered"
        return Outcome("supplier", f"forwarded by {sender}: summary of {pos} -> {where}", deliveries)

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
        client = self.copilot.odoo.client
        sender = email.from_address or ""
        is_vendor, is_customer = self._partner_roles(sender)
        names_pos = bool(PO_REF.search(f"{email.subject}\n{email.text}"))
        actor = self.mailbox_actor(sender)
        if names_pos or is_vendor:
            summary = self.copilot.summarize(actor, email)
            if summary.purchase_orders or (is_vendor and not is_customer):
                proposals = proposals_from_supplier_email(summary, client)
                buyers = self._buyers([po.id for po in summary.purchase_orders])
                deliveries = self.notifier.supplier_summary(key, email, summary, proposals, buyers)
                pos = ", ".join(po.name for po in summary.purchase_orders) or "no PO"
                where = ", ".join(d.target for d in deliveries) or "already delivered"
                return Outcome("supplier", f"summary of {pos} with {len(proposals)} proposal(s) -> {where}", deliveries)
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

    def _partner_roles(self, address: str) -> tuple[bool, bool]:
        """(vendor, customer): whether the sender's company has purchase orders, sale orders."""
        client = self.copilot.odoo.client
        wanted = normalise_address(address)
        if not wanted:
            return False, False
        rows = client.search_read(
            "res.partner", exact_address_domain("email", wanted), ["email", "commercial_partner_id"], limit=20
        )
        ids = sorted(
            {(r["commercial_partner_id"] or [r["id"]])[0] for r in rows if wanted in addresses_in(r["email"] or None)}
        )
        if not ids:
            return False, False
        vendor = client.search_count("purchase.order", [("partner_id", "child_of", ids)]) > 0
        customer = client.search_count("sale.order", [("partner_id", "child_of", ids)]) > 0
        return vendor, customer

    def _buyers(self, po_ids: list[int]) -> list[str]:
        """Email addresses of the POs' purchasers (Odoo's ``user_id``), in PO order."""
        if not po_ids:
            return []
        client = self.copilot.odoo.client
        user_ids = [r["user_id"][0] for r in client.read("purchase.order", po_ids, ["user_id"]) if r.get("user_id")]
        if not user_ids:
            return []
        users = {u["id"]: u for u in client.read("res.users", sorted(set(user_ids)), ["email", "login"])}
        out: list[str] = []
        for uid in user_ids:
            user = users.get(uid) or {}
            address = user.get("email") or (user.get("login") if "@" in str(user.get("login") or "") else None)
            if address and address.lower() not in out:
                out.append(str(address).lower())
        return out
