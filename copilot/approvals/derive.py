"""A proposal rebuilt by the server from its typed payload and what Odoo holds now.

An API client names an action (the typed payload) and its target; everything a person decides on
is derived here, never taken from the client: the title, the diff, the target's snapshot
(``write_date`` and the values the executor re-checks), the "before" values inside the payload,
the financial exposure and the base risk tier. Every record id inside the payload must belong to
the target (a PO line to its PO, a return's products to the delivery, a reply's recipients to the
record's customer or followers); otherwise ``PayloadRejected`` says which id and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from copilot.approvals.schemas import (
    AcceptPriceChange,
    ActionType,
    ChangeSaleCommitment,
    CreateReturn,
    DiffLine,
    Evidence,
    Expedite,
    IssueCreditNote,
    Proposal,
    ReducePurchaseLineQuantity,
    RescheduleOrderLine,
    RescheduleReceipt,
    RiskTier,
    SendCustomerReply,
    SetTicketLabels,
    SubstituteProduct,
    Target,
)
from copilot.errors import CopilotError
from copilot.odoo import OdooClient
from copilot.tools import _values as v

__all__ = ["API_SOURCE", "Derived", "PayloadRejected", "derive", "payload_target", "proposal_from_client"]

#: The ``source`` of every proposal an API client submits (never one of the copilot's skills).
API_SOURCE = "api"

#: Ticket fields an action may set (the executor's allow-list says the same).
TICKET_FIELDS = frozenset({"category_id", "ticket_type_id", "team_id", "priority"})


class PayloadRejected(CopilotError):
    """The payload does not describe a change to its own target in Odoo (HTTP 422)."""


@dataclass(frozen=True)
class Derived:
    """What the server derived: the payload with Odoo's "before" values, and what people read."""

    payload: Any
    target: Target
    title: str
    diff: list[DiffLine]
    amount: float | None = None
    currency: str | None = None
    tier: RiskTier = RiskTier.LOW
    reasons: list[str] = field(default_factory=list)


def payload_target(payload: Any) -> tuple[str, int]:
    """The (model, id) an action payload changes: its target, whatever the client declared."""
    match payload:
        case AcceptPriceChange() | RescheduleOrderLine() | SubstituteProduct() | ReducePurchaseLineQuantity():
            return "purchase.order.line", payload.line_id
        case RescheduleReceipt() | CreateReturn():
            return "stock.picking", payload.picking_id
        case Expedite():
            return "purchase.order", payload.po_id
        case ChangeSaleCommitment():
            return "sale.order", payload.so_id
        case IssueCreditNote():
            return "account.move", payload.invoice_id
        case SetTicketLabels():
            return "helpdesk.ticket", payload.ticket_id
        case SendCustomerReply():
            return payload.model, payload.res_id
    raise PayloadRejected(f"unknown action payload {type(payload).__name__}")


def _one(client: OdooClient, model: str, rid: int, fields: list[str]) -> dict[str, Any]:
    rows = client.read(model, [rid], ["write_date", *fields])
    if not rows:
        raise PayloadRejected(f"{model} {rid} does not exist (or the copilot may not read it)")
    return rows[0]


def _label(value: Any, fallback: str) -> str:
    found = v.ref(value)
    return found.name if found else fallback


def _first_line(value: Any, limit: int = 80) -> str:
    text = str(value or "").strip().splitlines()
    return (text[0] if text else "")[:limit]


def _day(value: Any) -> str:
    when = v.when(value)
    return f"{when:%Y-%m-%d}" if when else "-"


def _po_line(client: OdooClient, line_id: int, po_id: int, fields: list[str]) -> tuple[dict[str, Any], str, str]:
    """The PO line, its order's name and its product label; 422 unless it is a product line of ``po_id``."""
    line = _one(client, "purchase.order.line", line_id, ["order_id", "name", "state", "display_type", *fields])
    order = v.ref(line.get("order_id"))
    if order is None or order.id != po_id:
        where = order.name if order else "no purchase order"
        raise PayloadRejected(
            f"PO line {line_id} belongs to {where}, not to purchase order {po_id}: "
            "every record in a payload must belong to its target"
        )
    if line.get("display_type"):
        raise PayloadRejected(f"PO line {line_id} is a section or note, not a product line")
    return line, order.name, _first_line(line.get("name")) or f"line {line_id}"


def _line_target(line: dict[str, Any], po_name: str, product: str, **expect: Any) -> Target:
    return Target(
        model="purchase.order.line",
        id=int(line["id"]),
        display_name=f"{po_name} / {product}",
        write_date=line.get("write_date"),
        expect={"state": line.get("state"), **expect},
    )


def _price(client: OdooClient, p: AcceptPriceChange) -> Derived:
    line, po_name, product = _po_line(
        client, p.line_id, p.po_id, ["price_unit", "product_qty", "qty_received", "currency_id"]
    )
    if not math.isfinite(p.new_price) or p.new_price < 0:
        raise PayloadRejected(f"new_price {p.new_price!r} is not a price")
    old, new = float(line["price_unit"]), round(float(p.new_price), 6)
    open_qty = max(float(line.get("product_qty") or 0) - float(line.get("qty_received") or 0), 0.0)
    currency = v.currency(line.get("currency_id")) or p.currency
    exposure = round(abs(new - old) * open_qty, 2)
    payload = p.model_copy(
        update={"po_name": po_name, "product": product, "quantity": open_qty, "old_price": old, "currency": currency}
    )
    return Derived(
        payload=payload,
        target=_line_target(line, po_name, product, price_unit=old),
        title=f"Accept {po_name} {product} at {new:,.2f} {currency}".strip(),
        diff=[DiffLine(field="Unit price", before=f"{old:,.2f}", after=f"{new:,.2f}")],
        amount=exposure,
        currency=currency or None,
        tier=RiskTier.MEDIUM,
        reasons=[f"exposure ({new:,.2f} - {old:,.2f}) x {open_qty:g} open = {exposure:,.2f} {currency}".strip()],
    )


def _po_line_date(client: OdooClient, p: RescheduleOrderLine) -> Derived:
    line, po_name, product = _po_line(client, p.line_id, p.po_id, ["date_planned"])
    old = v.when(line.get("date_planned"))
    payload = p.model_copy(update={"po_name": po_name, "product": product, "old_date": old})
    return Derived(
        payload=payload,
        target=_line_target(line, po_name, product),
        title=f"Reschedule {po_name} {product} to {p.new_date:%Y-%m-%d}",
        diff=[DiffLine(field="Expected arrival", before=_day(old), after=f"{p.new_date:%Y-%m-%d}")],
    )


def _substitute(client: OdooClient, p: SubstituteProduct) -> Derived:
    line, po_name, product = _po_line(client, p.line_id, p.po_id, ["product_id"])
    old = v.ref(line.get("product_id"))
    new = _one(client, "product.product", p.new_product_id, ["display_name"])
    new_name = str(new.get("display_name") or p.new_product_id)
    old_name = old.name if old else product
    payload = p.model_copy(
        update={"po_name": po_name, "old_product_id": old.id if old else 0, "old_product": old_name,
                "new_product": new_name}
    )  # fmt: skip
    return Derived(
        payload=payload,
        target=_line_target(line, po_name, product, product_id=old.id if old else False),
        title=f"Substitute {old_name} by {new_name} on {po_name}",
        diff=[DiffLine(field="Product", before=old_name, after=new_name)],
        tier=RiskTier.MEDIUM,
    )


def _reduce(client: OdooClient, p: ReducePurchaseLineQuantity) -> Derived:
    line, po_name, product = _po_line(client, p.line_id, p.po_id, ["product_qty", "qty_received", "product_uom_id"])
    old, received = float(line.get("product_qty") or 0), float(line.get("qty_received") or 0)
    new = float(p.new_quantity)
    if not math.isfinite(new) or new >= old:
        raise PayloadRejected(f"new_quantity {p.new_quantity!r} does not lower the ordered {old:g}")
    if new < received:
        raise PayloadRejected(f"new_quantity {new:g} is below the {received:g} already received")
    uom = _label(line.get("product_uom_id"), p.uom)
    payload = p.model_copy(update={"po_name": po_name, "product": product, "old_quantity": old, "uom": uom})
    return Derived(
        payload=payload,
        target=_line_target(line, po_name, product, product_qty=old),
        title=f"Reduce {po_name} {product} to {new:g} {uom} (the rest cancelled)",
        diff=[DiffLine(field="Ordered quantity", before=f"{old:g} {uom}", after=f"{new:g} {uom}")],
        tier=RiskTier.MEDIUM,
    )


def _receipt(client: OdooClient, p: RescheduleReceipt) -> Derived:
    picking = _one(client, "stock.picking", p.picking_id, ["name", "origin", "scheduled_date", "state"])
    origin = str(picking.get("origin") or "")
    if p.line_ids:
        lines = client.read("purchase.order.line", list(p.line_ids), ["order_id"])
        owners = {int(ln["id"]): _label(ln.get("order_id"), "?") for ln in lines}
        for lid in p.line_ids:
            if owners.get(lid) != origin or not origin:
                raise PayloadRejected(
                    f"PO line {lid} is not a line of {origin or 'the purchase order'} received by "
                    f"{picking.get('name')}: every record in a payload must belong to its target"
                )
    old = v.when(picking.get("scheduled_date"))
    payload = p.model_copy(update={"picking_name": picking["name"], "po_name": origin or None, "old_date": old})
    diff = [DiffLine(field="Scheduled date", before=_day(old), after=f"{p.new_date:%Y-%m-%d}")]
    if p.line_ids:
        diff.append(
            DiffLine(field=f"Expected arrival of {len(p.line_ids)} line(s) of {origin}", before="-",
                     after=f"{p.new_date:%Y-%m-%d}")
        )  # fmt: skip
    return Derived(
        payload=payload,
        target=Target(model="stock.picking", id=p.picking_id, display_name=str(picking["name"]),
                      write_date=picking.get("write_date"), expect={"state": picking.get("state")}),
        title=f"Reschedule receipt {picking['name']} ({origin}) to {p.new_date:%Y-%m-%d}",
        diff=diff,
    )  # fmt: skip


def _expedite(client: OdooClient, p: Expedite) -> Derived:
    po = _one(client, "purchase.order", p.po_id, ["name", "partner_id", "state"])
    vendor = v.ref(po.get("partner_id"))
    if vendor is None or vendor.id != p.vendor_id:
        raise PayloadRejected(
            f"partner {p.vendor_id} is not the vendor of {po.get('name')}: the message would go to someone else"
        )
    return Derived(
        payload=p.model_copy(update={"po_name": po["name"]}),
        target=Target(model="purchase.order", id=p.po_id, display_name=str(po["name"]),
                      write_date=po.get("write_date"), expect={"state": po.get("state")}),
        title=f"Expedite {po['name']} (message to {vendor.name})",
        diff=[DiffLine(field=f"Message to {vendor.name}", before="-", after=_first_line(p.message, 200))],
    )  # fmt: skip


def _commitment(client: OdooClient, p: ChangeSaleCommitment) -> Derived:
    so = _one(client, "sale.order", p.so_id, ["name", "commitment_date", "state"])
    old = v.when(so.get("commitment_date"))
    return Derived(
        payload=p.model_copy(update={"so_name": so["name"], "old_date": old}),
        target=Target(model="sale.order", id=p.so_id, display_name=str(so["name"]),
                      write_date=so.get("write_date"), expect={"state": so.get("state")}),
        title=f"Promise {so['name']} to the customer for {p.new_date:%Y-%m-%d}",
        diff=[DiffLine(field="Delivery date promised", before=_day(old), after=f"{p.new_date:%Y-%m-%d}")],
    )  # fmt: skip


def _return(client: OdooClient, p: CreateReturn) -> Derived:
    picking = _one(client, "stock.picking", p.picking_id, ["name", "state"])
    if picking.get("state") != "done":
        raise PayloadRejected(f"{picking.get('name')} is not a done delivery: nothing to return yet")
    moves = client.search_read(
        "stock.move", [("picking_id", "=", p.picking_id), ("state", "=", "done")], ["product_id", "quantity"]
    )
    done: dict[int, tuple[str, float]] = {}
    for m in moves:
        product = v.ref(m.get("product_id"))
        if product is not None:
            name, qty = done.get(product.id, (product.name, 0.0))
            done[product.id] = (name, qty + float(m.get("quantity") or 0))
    lines = []
    for ln in p.lines:
        if ln.product_id not in done:
            raise PayloadRejected(f"product {ln.product_id} was not delivered by {picking['name']}")
        name, qty = done[ln.product_id]
        if ln.quantity > qty + 1e-9:
            raise PayloadRejected(f"{picking['name']} delivered {qty:g} of {name}, not {ln.quantity:g}")
        lines.append(ln.model_copy(update={"product": name}))
    return Derived(
        payload=p.model_copy(update={"picking_name": picking["name"], "lines": lines}),
        target=Target(model="stock.picking", id=p.picking_id, display_name=str(picking["name"]),
                      write_date=picking.get("write_date"), expect={"state": "done"}),
        title=f"Return {len(lines)} product(s) of {picking['name']}",
        diff=[DiffLine(field=f"Return {ln.product}", before="-", after=f"{ln.quantity:g}") for ln in lines],
    )  # fmt: skip


def _credit_note(client: OdooClient, p: IssueCreditNote) -> Derived:
    move = _one(client, "account.move", p.invoice_id, ["name", "move_type", "state", "amount_total", "currency_id"])
    if move.get("move_type") != "out_invoice" or move.get("state") != "posted":
        raise PayloadRejected(f"{move.get('name')} is not a posted customer invoice")
    total, currency = float(move.get("amount_total") or 0), v.currency(move.get("currency_id")) or p.currency
    return Derived(
        payload=p.model_copy(update={"invoice_name": move["name"], "amount": total, "currency": currency}),
        target=Target(model="account.move", id=p.invoice_id, display_name=str(move["name"]),
                      write_date=move.get("write_date"), expect={"state": "posted", "amount_total": total}),
        title=f"Credit note for {move['name']} ({total:,.2f} {currency})",
        diff=[DiffLine(field="Credit note", before="-", after=f"{total:,.2f} {currency}")],
        amount=total,
        currency=currency or None,
    )  # fmt: skip


def _labels(client: OdooClient, p: SetTicketLabels) -> Derived:
    unknown = sorted(set(p.values) - TICKET_FIELDS)
    if unknown:
        raise PayloadRejected(f"a ticket's {', '.join(unknown)} cannot be set by an action")
    meta = client.fields_get("helpdesk.ticket", ["type", "relation", "selection"])
    ticket = _one(client, "helpdesk.ticket", p.ticket_id, ["name", *p.values])
    before: dict[str, str | None] = {}
    after: dict[str, str] = {}
    for name, value in p.values.items():
        attrs = meta.get(name) or {}
        current = ticket.get(name)
        if attrs.get("type") == "many2one":
            if not isinstance(value, int):
                raise PayloadRejected(f"{name} must be a record id")
            related = _one(client, str(attrs.get("relation")), value, ["display_name"])
            before[name], after[name] = _label(current, "") or None, str(related.get("display_name") or value)
        elif attrs.get("type") == "selection":
            labels = {str(k): str(lbl) for k, lbl in attrs.get("selection") or []}
            if str(value) not in labels:
                raise PayloadRejected(f"{value!r} is not a value of {name}")
            before[name], after[name] = labels.get(str(current)), labels[str(value)]
        else:
            raise PayloadRejected(f"{name} is not a field of helpdesk tickets here")
    name = str(ticket.get("name") or p.ticket_name)
    return Derived(
        payload=p.model_copy(update={"ticket_name": name, "before": before, "after": after}),
        target=Target(model="helpdesk.ticket", id=p.ticket_id, display_name=name, write_date=ticket.get("write_date")),
        title=f"Relabel {name}",
        diff=[DiffLine(field=k, before=before.get(k) or "-", after=a) for k, a in after.items()],
    )


def _reply(client: OdooClient, p: SendCustomerReply) -> Derived:
    record = _one(client, p.model, p.res_id, ["display_name", "partner_id", "message_partner_ids"])
    partner = v.ref(record.get("partner_id"))
    allowed = {partner.id} if partner else set()
    allowed |= {int(i) for i in record.get("message_partner_ids") or []}
    strangers = sorted(set(p.partner_ids) - allowed)
    if strangers:
        raise PayloadRejected(
            f"partner(s) {strangers} are neither the customer nor a follower of {record.get('display_name')}"
        )
    names = client.read("res.partner", list(p.partner_ids), ["display_name"])
    label = str(record.get("display_name") or p.record_name)
    return Derived(
        payload=p.model_copy(update={"record_name": label}),
        target=Target(model=p.model, id=p.res_id, display_name=label, write_date=None),
        title=f"Reply on {label}: {p.subject}",
        diff=[DiffLine(field="To", before="-", after=", ".join(str(n.get("display_name")) for n in names)),
              DiffLine(field="Subject", before="-", after=p.subject)],
    )  # fmt: skip


_DERIVE: dict[ActionType, Callable[[OdooClient, Any], Derived]] = {
    ActionType.ACCEPT_PRICE_CHANGE: _price,
    ActionType.RESCHEDULE_PO_LINE: _po_line_date,
    ActionType.SUBSTITUTE_PRODUCT: _substitute,
    ActionType.REDUCE_PO_LINE_QTY: _reduce,
    ActionType.RESCHEDULE_RECEIPT: _receipt,
    ActionType.EXPEDITE: _expedite,
    ActionType.CHANGE_SO_COMMITMENT: _commitment,
    ActionType.CREATE_RETURN: _return,
    ActionType.ISSUE_CREDIT_NOTE: _credit_note,
    ActionType.SET_TICKET_LABELS: _labels,
    ActionType.SEND_CUSTOMER_REPLY: _reply,
}


def derive(client: OdooClient, payload: Any, declared: tuple[str, int] | None = None) -> Derived:
    """Everything people decide on, from ``payload`` and Odoo; ``declared`` is the client's (model, id)."""
    model, rid = payload_target(payload)
    if declared is not None and declared != (model, rid):
        raise PayloadRejected(
            f"the payload changes {model} {rid} ({_what(payload)}), but the declared target is "
            f"{declared[0]} {declared[1]}: every record in a payload must belong to its target"
        )
    return _DERIVE[payload.action_type](client, payload)


def _what(payload: Any) -> str:
    if isinstance(payload, AcceptPriceChange | RescheduleOrderLine | SubstituteProduct | ReducePurchaseLineQuantity):
        return f"line {payload.line_id} of {payload.po_name}"
    return payload.action_type.value


def proposal_from_client(
    client: OdooClient,
    payload: Any,
    declared: tuple[str, int],
    *,
    evidence: list[Evidence] | None = None,
    flagged_input: bool = False,
) -> Proposal:
    """The proposal an API client's typed payload amounts to: everything derived, the client's flag kept
    (a client may raise a flag, never lower a tier), its source ``api`` (never pre-approved)."""
    found = derive(client, payload, declared)
    reasons = [*found.reasons, *(["the API client flagged its input"] if flagged_input else [])]
    return Proposal(
        title=found.title[:200],
        payload=found.payload,
        target=found.target,
        diff=found.diff,
        amount=found.amount,
        currency=found.currency,
        risk_tier=found.tier,
        reasons=reasons,
        evidence=list(evidence or []),
        source=API_SOURCE,
        flagged_input=flagged_input,
    )
