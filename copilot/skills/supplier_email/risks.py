"""Who really sent the email, and what the buyer must be warned about before acting on it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from copilot.email import InboundEmail
from copilot.email.auth import SenderAuth, authenticate_sender
from copilot.guardrails.message import hidden_content_matters
from copilot.skills.supplier_email.compare import Comparison
from copilot.skills.supplier_email.extract import Extraction
from copilot.skills.supplier_email.schemas import (
    ChangeKind,
    DetectedChange,
    EmailWarning,
    SenderStatus,
    Severity,
    WarningCode,
)
from copilot.tools.addresses import addresses_in, normalise_address
from copilot.tools.schemas import PartnerMatch, PurchaseOrderStatus

__all__ = ["FREE_MAIL_DOMAINS", "SenderCheck", "build_warnings", "check_sender", "mark_unverified", "sender_address"]

#: Public mailbox providers: a shared domain there proves nothing about the sender's company.
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.ru",
        "qq.com",
        "163.com",
    ]
)
_CONFIRMED_STATES = ("purchase", "done")


def _not_configured() -> SenderAuth:
    return authenticate_sender((), None, frozenset())


@dataclass(frozen=True)
class SenderCheck:
    """The sender compared with the contacts Odoo knows for the POs' vendors, and how far it is trusted."""

    status: SenderStatus
    address: str | None
    vendors: tuple[str, ...] = ()
    known_domains: tuple[str, ...] = ()
    contact: PartnerMatch | None = None
    other_vendor: str | None = None
    #: The vendors (partner ids) whose POs this sender may change: those it is a contact of, else those
    #: whose known domain it writes from. A contact of vendor A is never trusted for vendor B's PO.
    trusted_vendors: frozenset[int] = frozenset()
    contact_vendor: str | None = None
    auth: SenderAuth = field(default_factory=_not_configured)

    @property
    def trusted(self) -> bool:
        """A sender address exists, is not unknown or another vendor's, and passed authentication if required."""
        return (
            bool(self.address)
            and self.status not in ("unknown", "other_vendor")
            and self.auth.status in ("pass", "not_configured")
        )


def _addresses(value: str | None) -> list[str]:
    return sorted(addresses_in(value))


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1] if "@" in address else ""


def sender_address(mail: InboundEmail, forward_trusted: bool = False) -> str | None:
    """The address to verify: the original sender of a forward by authenticated staff, else ``From``.

    A "Forwarded message / From:" block is text written by whoever sent the email: it names the original
    sender only when the email comes from an authenticated colleague (``forward_trusted``).
    """
    if forward_trusted and mail.forwarded and mail.forwarded_from:
        return mail.forwarded_from
    return mail.from_address


def check_sender(
    address: str | None,
    orders: Sequence[PurchaseOrderStatus],
    contacts: dict[int, list[PartnerMatch]],
    sender_partners: Sequence[PartnerMatch] = (),
    auth: SenderAuth | None = None,
) -> SenderCheck:
    """Classify the sender: a known contact of the vendor, a known domain, another vendor's contact, or unknown."""
    auth = auth if auth is not None else _not_configured()
    vendors = {o.vendor.id: o.vendor.name for o in orders if o.vendor.id}
    address = normalise_address(address) if address else None
    if not vendors or not address or "@" not in address:
        return SenderCheck(status="no_vendor", address=address, vendors=tuple(vendors.values()), auth=auth)
    by_vendor: dict[int, dict[str, PartnerMatch]] = {v: {} for v in vendors}
    for vendor_id in vendors:
        for partner in contacts.get(vendor_id, []):
            for a in _addresses(partner.email):
                by_vendor[vendor_id].setdefault(a, partner)
    known = {a for found in by_vendor.values() for a in found}
    domains = tuple(sorted({_domain(a) for a in known} - FREE_MAIL_DOMAINS))
    base = {"address": address, "vendors": tuple(vendors.values()), "known_domains": domains, "auth": auth}
    contact_of = [v for v in vendors if address in by_vendor[v]]
    if contact_of:
        first = contact_of[0]
        return SenderCheck(
            status="known_contact",
            contact=by_vendor[first][address],
            trusted_vendors=frozenset(contact_of),
            contact_vendor=vendors[first],
            **base,  # type: ignore[arg-type]
        )
    for partner in sender_partners:
        company = partner.company.id if partner.company else partner.id
        if address in _addresses(partner.email) and company not in vendors:
            name = partner.company.name if partner.company else partner.display_name
            return SenderCheck(status="other_vendor", contact=partner, other_vendor=name, **base)  # type: ignore[arg-type]
    domain = _domain(address)
    by_domain = frozenset(
        v for v in vendors if domain not in FREE_MAIL_DOMAINS and any(_domain(a) == domain for a in by_vendor[v])
    )
    if by_domain:
        # a domain that several of the email's vendors share cannot tell which one writes: none is trusted
        trusted = by_domain if len(by_domain) == 1 else frozenset()
        return SenderCheck(status="known_domain", trusted_vendors=trusted, **base)  # type: ignore[arg-type]
    return SenderCheck(status="unknown", **base)  # type: ignore[arg-type]


def _lookalike(domain: str, vendors: Sequence[str]) -> str | None:
    flat = re.sub(r"[^a-z0-9]", "", domain)
    for vendor in vendors:
        tokens = [t for t in re.split(r"[^a-z0-9]+", vendor.lower()) if len(t) >= 4]
        if tokens and all(t in flat for t in tokens):
            return vendor
    return None


@dataclass
class _Warnings:
    items: list[EmailWarning] = field(default_factory=list)

    def add(self, code: WarningCode, severity: Severity, message: str) -> None:
        """Add a warning once."""
        if not any(w.code == code and w.message == message for w in self.items):
            self.items.append(EmailWarning(code=code, severity=severity, message=message))


def build_warnings(
    mail: InboundEmail,
    extraction: Extraction,
    orders: Sequence[PurchaseOrderStatus],
    comparison: Comparison,
    sender: SenderCheck,
    forward_trusted: bool = False,
) -> list[EmailWarning]:
    """Every warning the buyer must see, most severe first."""
    w = _Warnings()
    found = {o.name.upper() for o in orders}
    if not extraction.po_refs:
        w.add(WarningCode.NO_PO_REFERENCE, "warning", "no purchase order reference found in the email")
    elif extraction.po_refs_source != "body":
        where = {"quoted": "the quoted earlier message", "thread": "the Odoo record the email is posted on"}
        w.add(
            WarningCode.NO_PO_REFERENCE,
            "info",
            f"the new text names no PO; {', '.join(extraction.po_refs)} taken from {where[extraction.po_refs_source]}",
        )
    for ref in extraction.po_refs:
        if ref not in found:
            w.add(WarningCode.PO_NOT_FOUND, "warning", f"{ref} is not a purchase order in Odoo")
    for order in orders:
        if order.state not in _CONFIRMED_STATES:
            w.add(
                WarningCode.PO_NOT_CONFIRMED,
                "info",
                f"{order.name} is not a confirmed order in Odoo (state {order.state})",
            )
    vendor_names = sorted({o.vendor.name for o in orders})
    if len(vendor_names) > 1:
        w.add(
            WarningCode.MULTIPLE_VENDORS,
            "warning",
            f"the email references POs of different vendors: {', '.join(vendor_names)}",
        )
    _sender_warnings(w, mail, sender)
    _origin_warnings(w, mail, sender, comparison, forward_trusted)
    _foreign_po_warnings(w, orders, sender)
    if extraction.bank_change:
        w.add(
            WarningCode.BANK_DETAILS_CHANGE,
            "critical",
            "the email asks to pay to new bank or remittance details: verify by phone with a known contact of the "
            "vendor before any payment; do not use details from the email",
        )
    if extraction.ai_instructions_hidden or hidden_content_matters(mail):  # not a preheader or a spacer
        how = ", ".join(mail.hidden_reasons) or "hidden content"
        w.add(
            WarningCode.HIDDEN_TEXT,
            "critical" if extraction.ai_instructions_hidden else "warning",
            f"the email contains text hidden from human readers ({how}); it was ignored",
        )
    if extraction.ai_instructions_hidden or extraction.ai_instructions_visible:
        where = "hidden text in the email" if extraction.ai_instructions_hidden else "the email"
        w.add(
            WarningCode.AI_INSTRUCTIONS,
            "critical",
            f"{where} addresses instructions to an AI assistant (a prompt-injection attempt); they were ignored",
        )
    if extraction.agreement_claim:
        w.add(
            WarningCode.AGREEMENT_CLAIM,
            "warning",
            "the email claims a prior agreement or approval that Odoo does not show; check with the buyer",
        )
    for text in comparison.inconsistencies:
        w.add(WarningCode.INCONSISTENT_WITH_ODOO, "warning", text)
    if mail.forwarded and (forward_trusted or not mail.forwarded_from):
        w.add(
            WarningCode.FORWARDED,
            "info",
            f"forwarded by {mail.from_address or 'unknown'}; original sender {mail.forwarded_from or 'unknown'}",
        )
    if mail.defects:
        w.add(WarningCode.PARSE_DEFECTS, "info", "problems reading the email: " + "; ".join(mail.defects[:3]))
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(w.items, key=lambda x: rank[x.severity])


def _sender_warnings(w: _Warnings, mail: InboundEmail, sender: SenderCheck) -> None:
    vendors = ", ".join(sender.vendors) or "the vendor"
    if sender.status == "unknown" and sender.address:
        domain = _domain(sender.address)
        known = ", ".join(sender.known_domains) or "none on file"
        message = f"sender domain {domain} is not a known domain of vendor {vendors} (known: {known})"
        like = _lookalike(domain, sender.vendors)
        if like:
            message += f"; it imitates the name {like}: possible impersonation"
        w.add(WarningCode.SENDER_UNKNOWN_DOMAIN, "critical", message)
    elif sender.status == "other_vendor":
        w.add(
            WarningCode.PO_OTHER_VENDOR,
            "critical",
            f"the sender is a contact of {sender.other_vendor}, but the PO belongs to {vendors}",
        )
    elif sender.status == "known_domain":
        w.add(WarningCode.SENDER_NOT_A_CONTACT, "info", f"the sender is not a registered contact of {vendors} in Odoo")
    if mail.from_address and "@" in mail.from_address:
        from_domain = _domain(mail.from_address)
        for reply in mail.reply_to:
            if "@" in reply and _domain(reply) != from_domain:
                w.add(
                    WarningCode.REPLY_TO_MISMATCH,
                    "warning",
                    f"replies would go to another domain ({_domain(reply)}) than the sender's ({from_domain})",
                )


def _origin_warnings(
    w: _Warnings, mail: InboundEmail, sender: SenderCheck, comparison: Comparison, forward_trusted: bool
) -> None:
    """Where the sender's identity comes from: no sender at all, a forwarded block, authentication."""
    if not mail.from_address:
        w.add(
            WarningCode.NO_SENDER,
            "warning",
            "the message has no verified sender (pasted text, or no From address): confirm any change with a "
            "known contact of the vendor before acting on it",
        )
    if mail.forwarded and mail.forwarded_from and not forward_trusted:
        w.add(
            WarningCode.FORWARD_NOT_TRUSTED,
            "warning",
            f"the email quotes a forwarded message said to be from {mail.forwarded_from}, but it was sent by "
            f"{mail.from_address or 'an unknown sender'}, who is not an authenticated colleague: the forwarded "
            "sender is only text in the email and was not trusted",
        )
    auth = sender.auth
    if auth.status in ("fail", "none") and mail.from_address:
        w.add(WarningCode.SENDER_NOT_AUTHENTICATED, "warning", f"the sender is not authenticated: {auth.reason}")
    elif auth.status == "not_configured" and mail.from_address and comparison.changes:
        w.add(WarningCode.SENDER_AUTH_NOT_CONFIGURED, "info", auth.reason)


def _foreign_po_warnings(w: _Warnings, orders: Sequence[PurchaseOrderStatus], sender: SenderCheck) -> None:
    """A sender trusted for one vendor writing about another vendor's PO: a classic attack sign."""
    if not sender.trusted_vendors:
        return
    who = sender.contact_vendor or ", ".join(
        sorted({o.vendor.name for o in orders if o.vendor.id in sender.trusted_vendors})
    )
    for order in orders:
        if order.vendor.id and order.vendor.id not in sender.trusted_vendors:
            w.add(
                WarningCode.PO_OTHER_VENDOR,
                "critical",
                f"the sender writes for {who}, but {order.name} belongs to {order.vendor.name}: changes to it are "
                "not verified",
            )


def mark_unverified(
    changes: Sequence[DetectedChange],
    sender: SenderCheck,
    warnings: Sequence[EmailWarning],
    orders: Sequence[PurchaseOrderStatus] = (),
) -> list[DetectedChange]:
    """Flag the changes as unverified: an untrusted sender, attack signs, or a PO of a vendor the sender is not."""
    attack = any(
        w.code
        in (
            WarningCode.BANK_DETAILS_CHANGE,
            WarningCode.AI_INSTRUCTIONS,
            WarningCode.PO_OTHER_VENDOR,
            WarningCode.REPLY_TO_MISMATCH,  # answers would go elsewhere than the sender: a classic takeover sign
        )
        for w in warnings
    )
    vendor_of = {o.name.upper(): o.vendor.id for o in orders}
    every_vendor = set(vendor_of.values())
    out: list[DetectedChange] = []
    for c in changes:
        vendor = vendor_of.get((c.po_name or "").upper())
        own = vendor in sender.trusted_vendors if vendor is not None else every_vendor <= sender.trusted_vendors
        if c.kind is ChangeKind.QUESTION or (sender.trusted and not attack and own):
            out.append(c)
        else:
            out.append(c.model_copy(update={"unverified": True}))
    return out
