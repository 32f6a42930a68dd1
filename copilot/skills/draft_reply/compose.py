"""The deterministic draft: templates from ``prompts/reply_templates`` filled with Odoo facts only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import yaml

from copilot.citations import Citation
from copilot.guardrails.subject import reflected_subject
from copilot.prompts import prompts_dir
from copilot.skills.draft_reply.facts import Gathered
from copilot.skills.draft_reply.schemas import Fact, Intent, KbPassage, SuggestedAction
from copilot.text.references import without_product_code
from copilot.tools import _values as v
from copilot.tools.schemas import SaleOrderStatus

__all__ = ["Composed", "compose", "templates"]

TEMPLATES = "reply_templates"
_CLAIMS: frozenset[Intent] = frozenset({"damaged", "missing", "wrong_item", "return"})


@lru_cache(maxsize=4)
def templates(version: int = 1) -> dict[str, str]:
    """The reply templates (name -> text with ``{placeholders}``)."""
    data = yaml.safe_load((prompts_dir() / TEMPLATES / f"v{version}.yaml").read_text(encoding="utf-8"))
    return {k: str(val) for k, val in data.items() if k not in ("name", "version", "description")}


def _qty(value: float) -> str:
    return f"{value:g}"


def _product(name: str) -> str:
    return without_product_code(name)


def _day(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class Composed:
    """The template draft and what it stands on."""

    paragraphs: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    suggested: list[SuggestedAction] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)
    late: bool = False


def _order(order: SaleOrderStatus, gathered: Gathered, as_of: datetime, out: Composed) -> None:
    t = templates()
    cite = Citation(model="sale.order", id=order.id, display_name=order.name)
    out.facts.append(Fact(label=f"{order.name} state", value=order.state, citation=cite))
    out.paragraphs.append(t["order_intro"].format(order=order.name))
    if order.state in ("draft", "sent"):
        out.paragraphs.append(t["order_quotation"].format(order=order.name))
        return
    if order.state == "cancel":
        out.paragraphs.append(t["order_cancelled"].format(order=order.name))
        return
    delivered = [f"{_qty(ln.delivered)} {_product(ln.product.name)}" for ln in order.lines if ln.delivered > 0]
    if delivered and all(ln.short <= 0 and ln.delivered >= ln.ordered for ln in order.lines):
        out.paragraphs.append(t["order_delivered"].format(order=order.name, delivered=_join(delivered)))
    elif delivered:
        out.paragraphs.append(t["order_partly_delivered"].format(order=order.name, delivered=_join(delivered)))
    for delivery in order.deliveries:
        picking = gathered.pickings.get(delivery.id) or {}
        tracking = v.text(picking.get("carrier_tracking_ref"))
        if tracking and picking.get("state") == "done":
            carrier = v.ref(picking.get("carrier_id"))
            out.paragraphs.append(
                t["tracking"].format(
                    picking=picking["name"], carrier=carrier.name if carrier else "the carrier", tracking=tracking
                )
            )
            out.facts.append(
                Fact(
                    label=f"tracking of {picking['name']}",
                    value=tracking,
                    citation=Citation(model="stock.picking", id=delivery.id, display_name=picking["name"]),
                )
            )
    ready = [
        f"{_qty(ln.reserved)} {_product(ln.product.name)}"
        for ln in order.lines
        if ln.reserved > 0 and ln.ordered - ln.delivered > 0
    ]
    if ready:
        sentence = t["order_ready"].format(ready=_join(ready))
        out.paragraphs.append(sentence[:1].upper() + sentence[1:])
    for ln in order.lines:
        if ln.short <= 0:
            continue
        short = f"{_qty(ln.short)} {_product(ln.product.name)}"
        out.facts.append(Fact(label=f"{order.name} short", value=short, citation=cite))
        if ln.expected_date is None:
            out.paragraphs.append(t["order_waiting_stock_undated"].format(short=short))
            continue
        incoming = next((m for m in ln.incoming if m.picking), None)
        receipt = gathered.pickings.get(incoming.picking.id) if incoming and incoming.picking else None
        if receipt is not None:
            out.facts.append(
                Fact(
                    label=f"receipt for {_product(ln.product.name)}",
                    value=f"{receipt['name']} scheduled {receipt['scheduled_date']}",
                    citation=Citation(model="stock.picking", id=receipt["id"], display_name=receipt["name"]),
                )
            )
        if ln.expected_date.replace(tzinfo=None) < as_of.replace(tzinfo=None):
            out.late = True
            out.paragraphs.append(t["order_waiting_stock_late"].format(short=short, date=_day(ln.expected_date)))
            po = receipt.get("origin") if receipt else None
            out.suggested.append(
                SuggestedAction(
                    action_type="expedite",
                    title=f"Expedite {po or 'the late receipt'} with the vendor",
                    reason=f"{order.name} waits for {short}; the receipt was due {ln.expected_date:%Y-%m-%d}",
                )
            )
            out.open_questions.append(
                f"Ask the buyer for a confirmed date for {po or 'the late receipt'} before promising one."
            )
        else:
            out.paragraphs.append(t["order_waiting_stock_dated"].format(short=short, date=_day(ln.expected_date)))
    if order.commitment_date is not None:
        out.paragraphs.append(t["order_commitment"].format(order=order.name, date=_day(order.commitment_date)))
        late_lines = [ln for ln in order.lines if ln.expected_date and ln.expected_date > order.commitment_date]
        if late_lines:
            out.suggested.append(
                SuggestedAction(
                    action_type="change_so_commitment",
                    title=f"Move the delivery date promised on {order.name}",
                    reason="stock arrives after the date promised to the customer",
                )
            )


def _invoices(gathered: Gathered, out: Composed) -> None:
    t = templates()
    for inv in gathered.invoices:
        currency = v.currency(inv["currency_id"])
        paid = {"paid": "paid", "in_payment": "being paid", "partial": "partly paid", "reversed": "credited"}
        state = paid.get(str(inv["payment_state"]), "open")
        due = f", due {inv['invoice_date_due']}" if state == "open" and inv.get("invoice_date_due") else ""
        amount = f"{inv['amount_total']:,.2f} {currency}"
        out.paragraphs.append(t["invoice_line"].format(invoice=inv["name"], amount=amount, payment=state, due=due))
        out.facts.append(
            Fact(
                label=f"invoice {inv['name']}",
                value=f"{amount}, {inv['payment_state']}",
                citation=Citation(model="account.move", id=inv["id"], display_name=inv["name"]),
            )
        )


def _policy(passage: KbPassage) -> str:
    text = re.sub(r"^\s*[-*]\s+|\*\*|__", "", passage.text, flags=re.M)
    text = " ".join(text.split())
    sentences = re.split(r"(?<=[.!?])\s+", text)
    quoted = ""
    for s in sentences:
        if len(quoted) + len(s) > 320:
            break
        quoted = f"{quoted} {s}".strip()
    return quoted or text[:320]


def compose(
    gathered: Gathered,
    intent: Intent,
    passages: list[KbPassage],
    as_of: datetime,
    *,
    subject: str,
    extra: dict[str, Any] | None = None,
) -> tuple[str, str, Composed]:
    """Subject, body and what they rest on."""
    t = templates()
    out = Composed()
    name = gathered.customer.display_name.split(",")[-1].strip() if gathered.customer else None
    greeting = t["greeting"].format(name=name) if name else t["greeting_unknown"]
    for order in gathered.orders:
        _order(order, gathered, as_of, out)
    for missing in gathered.not_found + gathered.foreign:
        out.paragraphs.append(t["not_found"].format(order=missing))
    if gathered.foreign:
        out.open_questions.append(
            f"{', '.join(gathered.foreign)} belongs to another customer: nothing about it is in the draft. "
            "Check who is writing before sharing any detail."
        )
    if gathered.customer_not_found:  # words for every channel: each adds how to name a customer (CLI flag, field)
        out.open_questions.append(
            f"No customer in Odoo matches {gathered.customer_not_found!r}, so no order detail is in the draft: "
            "check the customer's name or e-mail address."
        )
    if gathered.unidentified:
        out.paragraphs.append(t["ask_identity"].format(order=", ".join(gathered.unidentified)))
        if not gathered.customer_not_found:
            out.open_questions.append(
                "The sender is not identified, so no order detail is in the draft: name the customer (name or "
                "e-mail address), the sender's address or the helpdesk ticket to include it."
            )
    if gathered.ambiguous and not (intent == "billing" and gathered.invoices):
        out.paragraphs.append(t["ask_which_order"].format(orders=", ".join(r.name for r in gathered.ambiguous)))
        out.facts += [
            Fact(label="open order", value=r.name, citation=Citation(model="sale.order", id=r.id, display_name=r.name))
            for r in gathered.ambiguous
        ]
    nothing = not (
        gathered.orders or gathered.ambiguous or gathered.not_found or gathered.foreign or gathered.unidentified
    )
    if nothing and not (intent == "billing" and gathered.invoices):
        out.paragraphs.append(t["ask_order_number"])
    if intent == "billing":
        _invoices(gathered, out)
    if intent in _CLAIMS and passages:
        out.paragraphs.append(f"{t['policy_intro']} {_policy(passages[0])}")
        out.paragraphs.append(t["claim_next_steps"])
        out.suggested.append(
            SuggestedAction(
                action_type="create_return",
                title=f"Return or replacement for {', '.join(o.name for o in gathered.orders) or 'the order'}",
                reason=f"the customer reports a {intent.replace('_', ' ')} problem",
            )
        )
    body = "\n\n".join([greeting, t["thanks"], *out.paragraphs, t["closing"]])
    safe = reflected_subject(subject)  # the customer's subject, without links or phishing phrasing
    if safe is not None:
        reply_subject = f"Re: {safe}"
    elif gathered.orders:
        reply_subject = t["subject_status"].format(order=gathered.orders[0].name)
    else:
        reply_subject = t["subject_generic"]
    return reply_subject, body, out
