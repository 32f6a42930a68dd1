"""The deterministic summary: two to four plain sentences for a buyer, built from checked facts only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from copilot.email import InboundEmail
from copilot.skills.supplier_email.schemas import ChangeKind, DetectedChange, EmailWarning, WarningCode

__all__ = ["UNVERIFIED_PREFIX", "render_summary", "verification_sentence"]

UNVERIFIED_PREFIX = "UNVERIFIED"
_ORDER = [
    ChangeKind.CANCELLATION,
    ChangeKind.DELAY_NO_DATE,
    ChangeKind.PAYMENT_HOLD,
    ChangeKind.PRICE_CHANGE,
    ChangeKind.SUBSTITUTION,
    ChangeKind.SHORT_QUANTITY,
    ChangeKind.PARTIAL_SHIPMENT,
    ChangeKind.NEW_DATE,
    ChangeKind.DELIVERED,
    ChangeKind.CONFIRMATION,
    ChangeKind.OTHER,
    ChangeKind.QUESTION,
]


_DECISIONS = frozenset(
    {
        ChangeKind.PAYMENT_HOLD,
        ChangeKind.DELAY_NO_DATE,
        ChangeKind.CANCELLATION,
        ChangeKind.PRICE_CHANGE,
        ChangeKind.SUBSTITUTION,
        ChangeKind.SHORT_QUANTITY,
    }
)


def _signed_days(days: int) -> str:
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'later' if days > 0 else 'earlier'}"


def _product(c: DetectedChange) -> str:
    if c.product is not None:
        return c.product.name
    return f"[{c.product_code}]" if c.product_code else "all lines"


def _phrase(c: DetectedChange, multi: bool) -> str:
    """One clause per change; the PO is named only when the email is about several."""
    k = c.kind
    on = f" on {c.po_name}" if multi and c.po_name else ""
    of = f" of {c.po_name}" if multi and c.po_name else ""
    if k is ChangeKind.CONFIRMATION:
        return f"order{of} confirmed as placed" + (", date as in Odoo" if c.email_date else "")
    if k is ChangeKind.NEW_DATE:
        what = "ship date" if "ship date" in c.note else "delivery date" if "delivery date" in c.note else "date"
        days = c.delta.days if c.delta and c.delta.days is not None else None
        tail = f", {_signed_days(days)} than the {c.odoo_date.isoformat()} Odoo expects" if days and c.odoo_date else ""
        product = f" for {_product(c)}" if c.product is not None else ""
        return f"new {what}{of}{product} {c.email_value}{tail}"
    if k is ChangeKind.DELAY_NO_DATE:
        cause = " (force majeure)" if "force majeure" in c.note else ""
        expected = f"; Odoo expected it {c.odoo_date.isoformat()}" if c.odoo_date else ""
        return f"deliveries{of} suspended with no new date{cause}{expected}"
    if k is ChangeKind.PRICE_CHANGE:
        pct = f" ({c.delta.percent:+.1f}%)" if c.delta and c.delta.percent is not None else ""
        if c.email_value and c.email_value.endswith("%"):
            return f"{_product(c)}{on}: price {c.email_value}" + (
                f" (about {c.email_price.label()})" if c.email_price else ""
            )
        if c.email_price and c.odoo_price:
            return f"{_product(c)}{on} at {c.email_price.label()} instead of {c.odoo_price.label()}{pct}"
        return f"a price change{on} ({c.email_value})"
    if k is ChangeKind.SUBSTITUTION:
        sub = c.substitute.name if c.substitute is not None else ""
        sub = sub or " ".join(
            x for x in (f"[{c.substitute_code}]" if c.substitute_code else None, c.substitute_name) if x
        )
        price = ""
        if c.email_price and c.odoo_price:
            price = f" at {c.email_price.label()} (Odoo price {c.odoo_price.label()})"
        return f"{_product(c)}{on} is no longer available; proposes {sub or 'a substitute'}{price}"
    if k is ChangeKind.SHORT_QUANTITY:
        if c.email_quantity and c.odoo_quantity and c.note.startswith("the email states"):
            return f"states {c.email_quantity.label()} {_product(c)}{on} where Odoo has {c.odoo_quantity.label()}"
        if c.email_quantity and c.odoo_quantity:
            text = f"can supply only {c.email_quantity.label()} of {c.odoo_quantity.label()} {_product(c)}{on}"
            if c.cancelled_quantity:
                text += f", the other {c.cancelled_quantity.label()} cancelled"
            elif c.backorder_quantity and c.email_date:
                text += f", the rest possibly around {c.email_date.isoformat()}"
            return text
        return f"short supply{on}"
    if k is ChangeKind.PARTIAL_SHIPMENT:
        if c.email_quantity and c.odoo_quantity:
            text = f"{c.email_quantity.label()} of {c.odoo_quantity.label()} {_product(c)}{on} shipped"
            if c.backorder_quantity and c.email_date:
                text += f", the other {c.backorder_quantity.label()} to ship {c.email_date.isoformat()}"
            return text
        return f"a partial shipment{of}"
    if k is ChangeKind.PAYMENT_HOLD:
        amount = f" of {c.email_price.label()}" if c.email_price else ""
        return f"the order{of} is on hold until a prepayment{amount}"
    if k is ChangeKind.DELIVERED:
        check = "as Odoo shows" if c.consistent_with_odoo else "but Odoo has not recorded the receipt"
        return f"delivered{of} complete, {check}"
    if k is ChangeKind.CANCELLATION:
        return f"cancels {_product(c) if c.product_code else 'the order'}{on}"
    if k is ChangeKind.QUESTION:
        return "asks a question"
    return c.note or "mentions a change"


def verification_sentence(changes: Sequence[DetectedChange], warnings: Sequence[EmailWarning]) -> str | None:
    """The loud sentence for unverified claims or attack signs, or None."""
    codes = {w.code for w in warnings}
    parts: list[str] = []
    if any(c.unverified for c in changes):
        claimed = sorted({c.kind.value.replace("_", " ") for c in changes if c.unverified})
        what = f"the claimed {', '.join(claimed)}" if claimed else "this email"
        parts.append(f"{UNVERIFIED_PREFIX}: do not act on {what} until the vendor confirms through a known contact")
    if WarningCode.BANK_DETAILS_CHANGE in codes:
        parts.append("it asks for payment to new bank details")
    if WarningCode.AI_INSTRUCTIONS in codes:
        parts.append("it hides instructions to an AI assistant, which were ignored")
    if WarningCode.SENDER_UNKNOWN_DOMAIN in codes or WarningCode.PO_OTHER_VENDOR in codes:
        parts.append("the sender is not a known contact of the vendor")
    if WarningCode.NO_SENDER in codes:
        parts.append("it has no verified sender")
    if WarningCode.SENDER_NOT_AUTHENTICATED in codes:
        parts.append("our mail server did not authenticate the sender's address")
    if WarningCode.FORWARD_NOT_TRUSTED in codes:
        parts.append("its forwarded sender is only text written by whoever sent it")
    if not parts:
        return None
    if not parts[0].startswith(UNVERIFIED_PREFIX):
        parts[0] = "Warning: " + parts[0]
    return "; ".join(parts) + "."


def render_summary(
    mail: InboundEmail,
    changes: Sequence[DetectedChange],
    warnings: Sequence[EmailWarning],
    *,
    vendors: Sequence[str],
    po_names: Sequence[str],
    needs_reply: bool,
    reply_by: date | None,
    sender_trusted: bool = True,
) -> str:
    """Two to four sentences: who and what, further changes, the reply needed, and verification."""
    unverified = any(c.unverified for c in changes)
    who = mail.from_name or mail.from_address or "The sender"
    if not sender_trusted or unverified:
        who += " (sender not verified)"
    elif vendors:
        who += f" ({', '.join(vendors)})"
    about = f" about {', '.join(po_names)}" if po_names else ""
    multi = len(po_names) > 1
    ordered = sorted(changes, key=lambda c: _ORDER.index(c.kind))
    phrases = list(dict.fromkeys(_phrase(c, multi) for c in ordered if c.kind is not ChangeKind.QUESTION))
    sentences: list[str] = []
    if phrases:
        head = f"{who} writes{about} and claims" if unverified else f"{who} writes{about}"
        sentences.append(f"{head}: {'; '.join(phrases[:2])}.")
        if len(phrases) > 2:
            sentences.append(f"Also: {'; '.join(phrases[2:5])}.")
    elif po_names:
        sentences.append(f"{who} writes{about}; no change to the order was found.")
    else:
        sentences.append(
            f"{who} writes without naming a purchase order we know; nothing could be checked against Odoo."
        )
    question = next((c for c in changes if c.kind is ChangeKind.QUESTION), None)
    if needs_reply and question is not None:
        deadline = f" by {reply_by.isoformat()}" if reply_by else ""
        sentences.append(f'Reply needed{deadline}: "{_clip(question.evidence, 160)}"')
    elif not unverified and phrases and not any(c.kind is ChangeKind.QUESTION for c in changes):
        decisions = sorted({c.kind.value.replace("_", " ") for c in changes if c.kind in _DECISIONS})
        if decisions:
            sentences.append(f"No question is asked, but the {', '.join(decisions)} needs a decision.")
        else:
            sentences.append("No reply is requested.")
    loud = verification_sentence(changes, warnings)
    if loud:
        sentences.append(loud)
    return " ".join(sentences[:4])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
