"""The deterministic answers: the read-only tools gather the facts, templates from ``prompts/`` word them.

Each handler returns the lines of the answer, the facts they state (each with its record), the
citations and the raw tool results (the evidence the grounding check reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel

from copilot.citations import Citation
from copilot.config import Settings
from copilot.guardrails.injection import InjectionDetector
from copilot.odoo import OdooClient
from copilot.prompts import prompts_dir
from copilot.skills.answer.schemas import CAN_ANSWER, Fact
from copilot.skills.supplier_email import summarize_supplier_email
from copilot.state.schemas import Entities
from copilot.text.references import PO_REF, product_code, without_product_code
from copilot.tools import _values as v
from copilot.tools.chatter import MESSAGE_FIELDS, email_from_chatter, get_chatter_messages
from copilot.tools.chatter import _message as chatter_message
from copilot.tools.purchase import get_purchase_orders, late_purchase_orders
from copilot.tools.schemas import ChatterMessage, PurchaseOrderLine, PurchaseOrderStatus, Ref
from copilot.tools.stock import product_availability

__all__ = [
    "TEMPLATES",
    "Composed",
    "cannot_answer",
    "late_pos",
    "need",
    "po_status",
    "product_open_pos",
    "receipts_week",
    "supplier_said",
    "templates",
    "vendor_not_found",
]

TEMPLATES = "answer_templates"
OPEN_STATES = ("draft", "sent", "to approve", "purchase", "done")
MAX_LINES_LISTED = 6
MAX_PRODUCTS = 5


@lru_cache(maxsize=4)
def templates(version: int = 1) -> dict[str, Any]:
    """The answer templates (name -> text with ``{placeholders}``, or a mapping of labels)."""
    data = yaml.safe_load((prompts_dir() / TEMPLATES / f"v{version}.yaml").read_text(encoding="utf-8"))
    return {k: val for k, val in data.items() if k not in ("name", "version", "description")}


def _t(key: str, **values: Any) -> str:
    return str(templates()[key]).format(**values)


@dataclass
class Composed:
    """A deterministic answer and what it stands on."""

    lines: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)
    purchase_orders: list[str] = field(default_factory=list)
    vendors: list[Ref] = field(default_factory=list)
    products: list[Ref] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    can_answer: list[str] = field(default_factory=list)

    def cite(self, *citations: Citation) -> None:
        """Add citations, once each."""
        self.citations = list(dict.fromkeys([*self.citations, *citations]))

    def fact(self, label: str, value: Any, citation: Citation) -> None:
        """Record a stated fact and cite its record."""
        self.facts.append(Fact(label=label, value=str(value), citation=citation))
        self.cite(citation)

    def add_evidence(self, value: Any) -> None:
        """Keep a tool result (as JSON-able data) for the grounding check."""
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        elif isinstance(value, list):
            value = [x.model_dump(mode="json") if isinstance(x, BaseModel) else x for x in value]
        self.evidence.append(value)

    def entities(self) -> Entities:
        """The records this answer was about, for the conversation state."""
        return Entities(
            purchase_orders=list(dict.fromkeys(self.purchase_orders)),
            vendors=list(dict.fromkeys(self.vendors)),
            products=list(dict.fromkeys(self.products)),
        )


# -- formatting ----------------------------------------------------------------------------------
def _day(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip()


def _qty(value: float) -> str:
    return f"{value:g}"


def _product(name: str) -> str:
    """``[FURN_8888] Office Lamp`` as ``Office Lamp (FURN_8888)``."""
    code = product_code(name)
    return f"{without_product_code(name)} ({code})" if code else name


def _line_product(line: PurchaseOrderLine) -> str:
    return _product(line.product.name) if line.product else line.description.splitlines()[0][:80]


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _po_cite(order: PurchaseOrderStatus) -> Citation:
    return (
        order.citations[0]
        if order.citations
        else Citation(model="purchase.order", id=order.id, display_name=order.name)
    )


def _vendor_cite(vendor: Ref) -> Citation | None:
    return Citation(model="res.partner", id=vendor.id, display_name=vendor.name) if vendor.id else None


def _receipt(status: str | None) -> str:
    return str(templates()["receipt"].get(status or "none", status or ""))


def _state(state: str) -> str:
    return str(templates()["states"].get(state, state))


# -- status of purchase orders ---------------------------------------------------------------------
def po_status(client: OdooClient, names: Sequence[str], *, as_of: datetime, out: Composed) -> None:
    """Status of the named POs: state, amount, expected arrival, what is received, the latest supplier email."""
    wanted = list(dict.fromkeys(n.upper() for n in names))
    orders = get_purchase_orders(client, wanted)
    found = {o.name.upper() for o in orders}
    for name in wanted:
        if name not in found:
            out.not_found.append(name)
            out.lines.append(_t("po_not_found", po=name))
    for order in orders:
        out.add_evidence(order)
        _one_po(client, order, as_of=as_of, out=out)


def _one_po(client: OdooClient, order: PurchaseOrderStatus, *, as_of: datetime, out: Composed) -> None:
    cite = _po_cite(order)
    out.purchase_orders.append(order.name)
    out.vendors.append(order.vendor)
    out.cite(*order.citations)
    amount = _money(order.amount_total, order.currency)
    out.fact(f"{order.name} vendor", order.vendor.name, cite)
    out.fact(f"{order.name} state", order.state, cite)
    out.fact(f"{order.name} total", amount, cite)
    out.lines.append(_t("po_header", po=order.name, vendor=order.vendor.name, state=_state(order.state), amount=amount))
    confirmed = order.state in ("purchase", "done")
    if confirmed and order.receipt_status == "full":
        if order.effective_date:
            out.fact(f"{order.name} received", order.effective_date.date().isoformat(), cite)
            out.lines.append(_t("po_received", date=_day(order.effective_date)))
        else:
            out.lines.append(_t("po_received_undated"))
    elif order.date_planned and order.state != "cancel":
        days = (as_of.date() - order.date_planned.date()).days
        receipt = _receipt(order.receipt_status) if confirmed else _receipt("none")
        out.fact(f"{order.name} expected arrival", order.date_planned.date().isoformat(), cite)
        key = "po_expected_past" if days > 0 else "po_expected_today" if days == 0 else "po_expected_future"
        if days > 0:
            out.fact(f"{order.name} days since expected arrival", days, cite)
        out.lines.append(_t(key, date=_day(order.date_planned), days=_days(days), receipt=receipt))
    if order.lines and order.receipt_status != "full":
        partial = [ln for ln in order.lines if 0 < ln.quantity_received < ln.quantity]
        if partial:
            out.lines.append(
                _t(
                    "po_lines",
                    lines="; ".join(
                        _t(
                            "po_line_partial",
                            product=_line_product(ln),
                            received=_qty(ln.quantity_received),
                            quantity=_qty(ln.quantity),
                            uom=ln.uom,
                        )
                        for ln in partial
                    ),
                )
            )
        elif len(order.lines) <= MAX_LINES_LISTED:
            items = [
                _t("po_line", quantity=_qty(ln.quantity), uom=ln.uom, product=_line_product(ln)) for ln in order.lines
            ]
            out.lines.append(_t("po_lines", lines=_join(items)))
    emails = get_chatter_messages(client, "purchase.order", order.id)
    out.add_evidence(emails[-1:])
    if emails:
        last = emails[-1]
        out.fact(f"{order.name} latest supplier email", last.subject or "", last.citation)
        others = sorted({m.group(0).upper() for m in PO_REF.finditer(last.subject or "")} - {order.name.upper()})
        for other in get_purchase_orders(client, others) if others else []:  # "Re: P00004 / P00007": cite both
            out.add_evidence(other)
            out.cite(*other.citations)
        out.lines.append(
            _t(
                "po_last_email",
                po=order.name,
                subject=last.subject or "(no subject)",
                sender=_sender(last),
                date=_day(last.date),
            )
        )
    else:
        out.lines.append(_t("po_no_email", po=order.name))


def _sender(msg: ChatterMessage) -> str:
    email = email_from_chatter(msg)
    return email.from_name or (msg.author.name if msg.author else None) or email.from_address or "an unknown sender"


# -- late purchase orders ------------------------------------------------------------------------
def late_pos(client: OdooClient, *, as_of: datetime, vendor: Ref | None, out: Composed) -> None:
    """Confirmed POs past their expected arrival with goods still to receive, for all vendors or one."""
    rows = late_purchase_orders(client, as_of=as_of, vendor_id=vendor.id if vendor else None)
    out.add_evidence(rows)
    scope = _t("late_scope_vendor", vendor=vendor.name) if vendor else ""
    if vendor is not None:
        out.vendors.append(vendor)
        if (c := _vendor_cite(vendor)) is not None:
            out.cite(c)
    today = _day(as_of)
    if not rows:
        out.lines.append(_t("late_none", scope=scope, date=today))
        return
    key = "late_header_one" if len(rows) == 1 else "late_header_many"
    out.lines.append(_t(key, count=len(rows), scope=scope, date=today))
    for row in rows:
        amount = _money(row.amount_total, row.currency)
        out.purchase_orders.append(row.name)
        out.fact(f"{row.name} expected arrival", row.date_planned.date().isoformat(), row.citation)
        out.fact(f"{row.name} days late", row.days_late, row.citation)
        if (c := _vendor_cite(row.vendor)) is not None:
            out.cite(c)
        out.lines.append(
            "- "
            + _t(
                "late_item",
                po=row.name,
                vendor=row.vendor.name,
                date=_day(row.date_planned),
                days=_days(row.days_late),
                receipt=_receipt(row.receipt_status),
                amount=amount,
            )
        )


# -- what the supplier last said -------------------------------------------------------------------
def _latest_email(client: OdooClient, res_ids: Sequence[int] | None) -> ChatterMessage | None:
    domain: list = [("model", "=", "purchase.order"), ("message_type", "=", "email")]
    if res_ids is not None:
        if not res_ids:
            return None
        domain.append(("res_id", "in", list(res_ids)))
    rows = client.search_read("mail.message", domain, MESSAGE_FIELDS, order="date desc, id desc", limit=1)
    return chatter_message(rows[0]) if rows else None


def supplier_said(
    client: OdooClient,
    *,
    settings: Settings | None,
    po: str | None,
    vendor: Ref | None,
    out: Composed,
    injection: InjectionDetector | None = None,
) -> None:
    """The latest supplier email on a PO, from a vendor, or overall, summarised by the supplier-email skill."""
    order: PurchaseOrderStatus | None = None
    if po is not None:
        found = get_purchase_orders(client, [po])
        if not found:
            out.not_found.append(po.upper())
            out.lines.append(_t("po_not_found", po=po.upper()))
            return
        order = found[0]
        out.add_evidence(order)
        out.cite(*order.citations)
        out.purchase_orders.append(order.name)
        out.vendors.append(order.vendor)
        msg = _latest_email(client, [order.id])
    elif vendor is not None:
        out.vendors.append(vendor)
        if (c := _vendor_cite(vendor)) is not None:
            out.cite(c)
        rows = client.search_read("purchase.order", [("partner_id", "child_of", vendor.id)], ["name"], limit=500)
        msg = _latest_email(client, [r["id"] for r in rows])
    else:
        msg = _latest_email(client, None)
    if msg is None:
        if order is not None:
            out.lines.append(_t("said_none_po", po=order.name))
        elif vendor is not None:
            out.lines.append(_t("said_none_vendor", vendor=vendor.name))
        else:
            out.lines.append(_t("said_none_any"))
        return
    out.add_evidence(msg)
    email = email_from_chatter(msg)
    out.evidence.append(email.subject + "\n" + email.text)
    summary = summarize_supplier_email(email, client=client, settings=settings, injection=injection)
    out.add_evidence(summary)
    out.cite(msg.citation, *summary.citations)
    po_name = msg.record_name or (order.name if order else "")
    if po_name and po_name not in out.purchase_orders:
        out.purchase_orders.append(po_name)
    for resolved in summary.purchase_orders:
        if resolved.vendor not in out.vendors:
            out.vendors.append(resolved.vendor)
    subject, sender, date = msg.subject or "(no subject)", _sender(msg), _day(msg.date)
    out.fact("latest supplier email", subject, msg.citation)
    if order is not None:
        out.lines.append(_t("said_header_po", po=order.name, subject=subject, sender=sender, date=date))
    elif vendor is not None:
        out.lines.append(
            _t("said_header_vendor", vendor=vendor.name, po=po_name, subject=subject, sender=sender, date=date)
        )
    else:
        out.lines.append(_t("said_header_any", po=po_name, subject=subject, sender=sender, date=date))
    out.fact("summary of the latest supplier email", summary.summary, msg.citation)
    out.lines.append(_t("said_summary", summary=summary.summary))
    for warning in summary.warnings:
        out.lines.append(_t("said_warning", warning=warning))
    if summary.needs_reply:
        out.lines.append(_t("said_reply"))


# -- open purchase orders for a product -------------------------------------------------------------
def product_open_pos(
    client: OdooClient, *, products: Sequence[Ref], query: str | None, as_of: datetime, out: Composed
) -> None:
    """Stock of the products and the open purchase orders still bringing them in."""
    if not products:
        if query:
            out.not_found.append(query)
            out.lines.append(_t("product_not_found", query=query))
        else:
            need("need_product", out)
        return
    chosen = list(products)[:MAX_PRODUCTS]
    ids = [p.id for p in chosen]
    lines = client.search_read(
        "purchase.order.line",
        [("product_id", "in", ids), ("order_id.state", "in", list(OPEN_STATES))],
        ["order_id"],
        limit=200,
    )
    names = list(dict.fromkeys(ref.name for row in lines if (ref := v.ref(row["order_id"]))))
    orders = get_purchase_orders(client, names) if names else []
    for product in chosen:
        out.products.append(product)
        pcite = Citation(model="product.product", id=product.id, display_name=product.name)
        out.cite(pcite)
        label = _product(product.name)
        code = product_code(product.name)
        stock = next(
            (
                a
                for a in product_availability(client, code or without_product_code(product.name))
                if a.product.id == product.id
            ),
            None,
        )
        if stock is not None:
            out.add_evidence(stock)
            out.fact(f"{label} on hand", _qty(stock.on_hand), pcite)
            out.lines.append(
                _t(
                    "product_stock",
                    product=label,
                    on_hand=_qty(stock.on_hand),
                    available=_qty(stock.available),
                    uom=stock.uom,
                )
            )
        items = []
        for order in orders:
            open_lines = [
                ln
                for ln in order.lines
                if ln.product and ln.product.id == product.id and ln.quantity_received < ln.quantity
            ]
            if not open_lines or order.state == "cancel":
                continue
            out.add_evidence(order)
            cite = _po_cite(order)
            out.cite(*order.citations)
            out.purchase_orders.append(order.name)
            for ln in open_lines:
                open_qty = ln.quantity - ln.quantity_received
                when = ln.date_planned or order.date_planned
                out.fact(f"{order.name} {label} to receive", _qty(open_qty), cite)
                items.append(
                    "- "
                    + _t(
                        "product_open_item",
                        po=order.name,
                        vendor=order.vendor.name,
                        open_qty=_qty(open_qty),
                        uom=ln.uom,
                        date=_day(when) if when else "-",
                        state=_state(order.state),
                    )
                )
        if items:
            out.lines.append(_t("product_open_header", product=label))
            out.lines.extend(items)
        else:
            out.lines.append(_t("product_no_open", product=label))


# -- receipts expected this week ----------------------------------------------------------------
def receipts_week(client: OdooClient, *, as_of: datetime, vendor: Ref | None, next_week: bool, out: Composed) -> None:
    """Confirmed POs with goods to receive whose expected arrival falls in this (or next) week, Monday to Sunday."""
    start = (as_of - timedelta(days=as_of.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    if next_week:
        start += timedelta(days=7)
    end = start + timedelta(days=6)
    out.evidence.append(
        {"as_of": as_of.date().isoformat(), "week_start": start.date().isoformat(), "week_end": end.date().isoformat()}
    )
    domain: list = [
        ("state", "in", ["purchase", "done"]),
        ("receipt_status", "in", ["pending", "partial"]),
        ("date_planned", ">=", v.odoo_datetime(start)),
        ("date_planned", "<", v.odoo_datetime(end + timedelta(days=1))),
    ]
    if vendor is not None:
        domain.append(("partner_id", "child_of", vendor.id))
        out.vendors.append(vendor)
        if (c := _vendor_cite(vendor)) is not None:
            out.cite(c)
    rows = client.search_read("purchase.order", domain, ["name"], order="date_planned asc", limit=100)
    orders = sorted(
        get_purchase_orders(client, [r["name"] for r in rows]), key=lambda o: (o.date_planned or as_of, o.name)
    )
    if not orders:
        out.lines.append(_t("week_none", start=_day(start), end=_day(end)))
        return
    out.lines.append(_t("week_header", start=_day(start), end=_day(end), today=_day(as_of)))
    for order in orders:
        out.add_evidence(order)
        cite = _po_cite(order)
        out.cite(*order.citations)
        out.purchase_orders.append(order.name)
        assert order.date_planned is not None
        days = (as_of.date() - order.date_planned.date()).days
        pending = [
            _t("po_line", quantity=_qty(ln.quantity - ln.quantity_received), uom=ln.uom, product=_line_product(ln))
            for ln in order.lines
            if ln.quantity_received < ln.quantity
        ]
        out.fact(f"{order.name} expected arrival", order.date_planned.date().isoformat(), cite)
        key = "week_item_late" if days > 0 else "week_item"
        out.lines.append(
            "- "
            + _t(
                key,
                po=order.name,
                vendor=order.vendor.name,
                date=_day(order.date_planned),
                days=_days(days),
                lines=_join(pending),
            )
        )


# -- the rest ------------------------------------------------------------------------------------
def vendor_not_found(name: str, out: Composed) -> None:
    """The question names a vendor Odoo does not know."""
    out.not_found.append(name)
    out.lines.append(_t("vendor_not_found", name=name))


def need(key: str, out: Composed, **values: Any) -> None:
    """Ask the buyer which record they mean (``need_po``, ``need_one_po``, ``need_product``)."""
    text = _t(key, **values)
    out.lines.append(text)
    out.evidence.append(text)  # our own guidance (its example reference is not a fact about the question)


def cannot_answer(out: Composed) -> None:
    """The question is outside what the deterministic engine answers: say so and list what it can."""
    out.lines.append(_t("cannot_answer"))
    out.lines.extend(f"- {item}" for item in CAN_ANSWER)
    out.evidence.append("\n".join(CAN_ANSWER))  # our own examples, not facts
    out.can_answer = list(CAN_ANSWER)
