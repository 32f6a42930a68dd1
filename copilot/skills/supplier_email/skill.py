"""The supplier-email summary skill: extract, check against Odoo, warn, then optionally let an LLM word it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from copilot.citations import Citation
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.email.auth import SenderAuth, authenticate_sender, parse_authserv_ids
from copilot.guardrails.injection import InjectionDetector
from copilot.guardrails.message import untrusted_texts
from copilot.guardrails.screening import UntrustedText
from copilot.odoo import OdooClient
from copilot.skills.base import SkillContext
from copilot.skills.supplier_email.compare import compare
from copilot.skills.supplier_email.extract import Extraction, extract
from copilot.skills.supplier_email.facts import OdooFacts, gather_facts, is_staff
from copilot.skills.supplier_email.render import render_summary
from copilot.skills.supplier_email.risks import build_warnings, check_sender, mark_unverified, sender_address
from copilot.skills.supplier_email.schemas import (
    ChangeKind,
    EmailHeader,
    ResolvedPurchaseOrder,
    SupplierEmailSummary,
)
from copilot.skills.supplier_email.signals import compile_po_pattern
from copilot.skills.supplier_email.tables import (
    attachment_changes,
    attachment_po_refs,
    merge_changes,
    with_attachment_refs,
)
from copilot.text.language import LanguageDetector

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["SUPPLIER_EMAIL", "SupplierEmailSkill", "deterministic_summary", "summarize_supplier_email"]


def _resolved(facts: OdooFacts) -> list[ResolvedPurchaseOrder]:
    return [
        ResolvedPurchaseOrder(
            id=o.id,
            name=o.name,
            vendor=o.vendor,
            state=o.state,
            date_planned=o.date_planned,
            receipt_status=o.receipt_status,
            amount_total=o.amount_total,
            currency=o.currency,
            citation=o.citations[0] if o.citations else Citation(model="purchase.order", id=o.id, display_name=o.name),
        )
        for o in facts.orders
    ]


def _citations(mail: InboundEmail, facts: OdooFacts, contact: Citation | None) -> list[Citation]:
    found: list[Citation] = [c for o in facts.orders for c in o.citations]
    found += [c for c in (contact, mail.source, mail.thread) if c is not None]
    return list(dict.fromkeys(found))


def deterministic_summary(
    mail: InboundEmail,
    extraction: Extraction,
    facts: OdooFacts,
    *,
    auth: SenderAuth | None = None,
    forward_trusted: bool = False,
) -> SupplierEmailSummary:
    """The rules-only result: changes checked against Odoo, warnings and a templated summary.

    ``auth`` is the mail server's verdict on the From address (default: authentication not configured);
    ``forward_trusted`` says the email is a forward by an authenticated colleague, so the forwarded
    block's sender is the one checked. Without it, a forwarded block is only text.
    """
    comparison = compare(extraction, facts.orders, facts.products)
    if any(a.tables for a in mail.attachments):  # an order confirmation or schedule as PDF, XLSX or CSV
        found = attachment_changes(mail, facts.orders, email_refs=extraction.po_refs, language=extraction.language)
        comparison.changes = merge_changes(comparison.changes, found)
    address = sender_address(mail, forward_trusted)
    sender = check_sender(address, facts.orders, facts.contacts, facts.sender_partners, auth)
    warnings = build_warnings(mail, extraction, facts.orders, comparison, sender, forward_trusted)
    changes = mark_unverified(comparison.changes, sender, warnings, facts.orders)
    trusted = sender.trusted and not any(c.unverified for c in changes)
    needs_reply = trusted and any(c.kind is ChangeKind.QUESTION for c in changes)
    resolved = {o.name.upper() for o in facts.orders}
    summary = render_summary(
        mail,
        changes,
        warnings,
        vendors=list(dict.fromkeys(o.vendor.name for o in facts.orders)),
        po_names=[o.name for o in facts.orders] or extraction.po_refs,
        needs_reply=needs_reply,
        reply_by=extraction.reply_by,
        sender_trusted=sender.trusted,
    )
    return SupplierEmailSummary(
        email=EmailHeader(
            subject=mail.subject,
            from_name=mail.from_name,
            from_address=mail.from_address,
            date=mail.date,
            message_id=mail.message_id,
        ),
        purchase_orders=_resolved(facts),
        unresolved_references=[r for r in extraction.po_refs if r not in resolved],
        changes=changes,
        references=extraction.references,
        summary=summary,
        needs_reply=needs_reply,
        reply_by=extraction.reply_by if needs_reply else None,
        sender_status=sender.status,
        warnings=[f"CRITICAL: {w.message}" if w.severity == "critical" else w.message for w in warnings],
        warning_details=warnings,
        citations=_citations(
            mail, facts, sender.contact.citation if sender.contact and sender.status == "known_contact" else None
        ),
    )


def summarize_supplier_email(
    email: InboundEmail,
    *,
    client: OdooClient,
    llm: BaseChatModel | None = None,
    settings: Settings | None = None,
    po_pattern: str | re.Pattern[str] | None = None,
    injection: InjectionDetector | None = None,
    languages: LanguageDetector | None = None,
) -> SupplierEmailSummary:
    """Summarise a supplier email against Odoo; with ``llm``, word it with the model (falling back on any doubt).

    Odoo is read in at most four calls: the POs, their lines, the vendors' contacts, and a partner
    lookup only when the sender is not one of those contacts; an email offering a substitute adds one
    (which Odoo product it is); a forwarded email adds one, to check that
    the colleague who forwarded it is an Odoo user (only then is the forwarded block's sender trusted).
    With ``settings.mail_trusted_authserv_ids`` set, the From address must pass our mail server's
    authentication (``copilot.email.auth``) for any change to be verified. Odoo errors propagate as
    ``OdooError``; LLM errors never do (they become ``fallback_reason``). ``injection``: the root's injection
    detector (adds its embedding layer to the rules); ``languages``: the root's language detector (None: one
    built for this email).
    """
    pattern = compile_po_pattern(po_pattern)
    extraction = extract(email, po_pattern=pattern, injection=injection, languages=languages)
    extraction = with_attachment_refs(extraction, attachment_po_refs(email, pattern))
    trusted_ids = parse_authserv_ids(settings.mail_trusted_authserv_ids if settings is not None else None)
    auth = authenticate_sender(email.authentication_results, email.from_address, trusted_ids)
    forward_trusted = bool(
        email.forwarded
        and email.forwarded_from
        and email.from_address
        and auth.status in ("pass", "not_configured")
        and is_staff(client, email.from_address)
    )
    offered = [c for c in extraction.candidates if c.kind is ChangeKind.SUBSTITUTION]
    substitutes = (
        [c.substitute_code for c in offered if c.substitute_code],
        [c.substitute_text for c in offered if c.substitute_text and not c.substitute_code],
    )
    facts = gather_facts(client, extraction.po_refs, sender_address(email, forward_trusted), substitutes=substitutes)
    result = deterministic_summary(email, extraction, facts, auth=auth, forward_trusted=forward_trusted)
    if llm is None:
        return result
    timeout = settings.llm_deadline if settings is not None else None  # all attempts, not just one
    from copilot.skills.supplier_email.llm_path import improve_with_llm  # LangChain: only with a model

    return improve_with_llm(
        result, mail=email, facts=facts, extraction=extraction, llm=llm, po_pattern=pattern, timeout=timeout
    )


class SupplierEmailSkill:
    """The supplier-email summary as a ``Skill[InboundEmail, SupplierEmailSummary]``."""

    name = "supplier_email"

    def run(self, ctx: SkillContext, email: InboundEmail, /) -> SupplierEmailSummary:
        """Summarise ``email`` against the context's Odoo, with the pipeline's screening (else its detector's)."""
        return summarize_supplier_email(
            email,
            client=ctx.odoo(),
            llm=ctx.llm,
            settings=ctx.settings,
            injection=ctx.detector(),
            languages=ctx.languages,
        )

    def untrusted(self, email: InboundEmail, /) -> list[UntrustedText]:
        """The whole message, its subject and display name, and its hidden text."""
        return untrusted_texts(email)


SUPPLIER_EMAIL = SupplierEmailSkill()
