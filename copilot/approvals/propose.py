"""Skills' results turned into proposals: each one names its target as it is in Odoo right now.

A proposal snapshots the target's ``write_date`` and the values it relies on (state, current price)
so that the executor can refuse to act on a record that changed after a person approved the change.
Changes from unverified senders are never proposed: they are for a buyer to confirm first.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from copilot.approvals.schemas import (
    AcceptPriceChange,
    DiffLine,
    Evidence,
    Proposal,
    ReducePurchaseLineQuantity,
    RescheduleOrderLine,
    RescheduleReceipt,
    RiskTier,
    SetTicketLabels,
    SubstituteProduct,
    Target,
)
from copilot.odoo import OdooClient
from copilot.skills.supplier_email.schemas import ChangeKind, DetectedChange, SupplierEmailSummary, WarningCode
from copilot.skills.triage.schemas import TicketClassification
from copilot.tools import _values as v

__all__ = ["proposals_from_supplier_email", "proposals_from_triage"]

_OPEN = ["done", "cancel"]
#: Warnings that mean someone may be steering the email: proposals from it get the policy's flagged tier.
_ATTACK_SIGNS = frozenset(
    {
        WarningCode.HIDDEN_TEXT,
        WarningCode.AI_INSTRUCTIONS,
        WarningCode.AGREEMENT_CLAIM,
        WarningCode.REPLY_TO_MISMATCH,
        WarningCode.SENDER_NOT_A_CONTACT,
        WarningCode.BANK_DETAILS_CHANGE,
    }
)


def _email_evidence(summary: SupplierEmailSummary) -> Evidence:
    return Evidence(kind="email", label=f"{summary.email.from_address or '?'}: {summary.email.subject}"[:200])


def _new_datetime(day: Any, current: datetime | None) -> datetime:
    """The supplier's new day at the time of day Odoo had (Odoo stores datetimes, suppliers give days)."""
    return datetime.combine(day, current.time() if current else time(12, 0))


def _line_target(change: DetectedChange, product: str, line: dict[str, Any], **expect: Any) -> Target:
    """A PO line as the proposal saw it: its write_date, state and the values the action relies on."""
    return Target(
        model="purchase.order.line",
        id=int(line["id"]),
        display_name=f"{change.po_name} / {product}",
        write_date=line["write_date"],
        expect={"state": line["state"], **expect},
    )


def _reschedule(client: OdooClient, summary: SupplierEmailSummary, change: DetectedChange) -> Proposal | None:
    evidence = [_email_evidence(summary)]
    if change.line_id is not None:
        rows = client.read(
            "purchase.order.line", [change.line_id], ["date_planned", "write_date", "state", "name", "order_id"]
        )
        if not rows:
            return None
        line = rows[0]
        old = v.when(line["date_planned"])
        new = _new_datetime(change.email_date, old)
        if old is not None and old.date() == new.date():
            return None
        product = change.product.name if change.product else str(line["name"])
        po = v.ref(line["order_id"])
        return Proposal(
            title=f"Reschedule {change.po_name} {product} to {new:%Y-%m-%d}",
            payload=RescheduleOrderLine(
                po_id=po.id if po else 0,
                po_name=change.po_name or "",
                line_id=change.line_id,
                product=product,
                old_date=old,
                new_date=new,
            ),
            target=_line_target(change, product, line),
            diff=[
                DiffLine(field="Expected arrival", before=f"{old:%Y-%m-%d}" if old else "-", after=f"{new:%Y-%m-%d}")
            ],
            source="supplier_email",
            evidence=evidence,
        )
    receipts = client.search_read(
        "stock.picking",
        [("origin", "=", change.po_name), ("picking_type_id.code", "=", "incoming"), ("state", "not in", _OPEN)],
        ["name", "scheduled_date", "write_date", "state"],
        limit=2,
    )
    if len(receipts) != 1:  # none open, or a split receipt: a buyer picks the line
        return None
    receipt = receipts[0]
    old = v.when(receipt["scheduled_date"])
    new = _new_datetime(change.email_date, old)
    if old is not None and old.date() == new.date():
        return None
    lines = client.search_read(
        "purchase.order.line",
        [("order_id.name", "=", change.po_name), ("display_type", "=", False)],
        ["product_qty", "qty_received", "date_planned"],
    )
    still_open = [ln for ln in lines if float(ln["qty_received"]) < float(ln["product_qty"])]
    open_lines = [ln["id"] for ln in still_open]
    line_dates = [d for ln in still_open if (d := v.when(ln["date_planned"])) is not None]
    return Proposal(
        title=f"Reschedule receipt {receipt['name']} ({change.po_name}) to {new:%Y-%m-%d}",
        payload=RescheduleReceipt(
            picking_id=receipt["id"],
            picking_name=receipt["name"],
            po_name=change.po_name,
            line_ids=open_lines,
            old_date=old,
            new_date=new,
        ),
        target=Target(
            model="stock.picking",
            id=receipt["id"],
            display_name=receipt["name"],
            write_date=receipt["write_date"],
            expect={"state": receipt["state"]},
        ),
        diff=[
            DiffLine(field="Scheduled date", before=f"{old:%Y-%m-%d}" if old else "-", after=f"{new:%Y-%m-%d}"),
            DiffLine(
                field=f"Expected arrival of {len(open_lines)} line(s) of {change.po_name}",
                before=f"{min(line_dates):%Y-%m-%d}" if line_dates else "-",
                after=f"{new:%Y-%m-%d}",
            ),
        ],
        source="supplier_email",
        evidence=evidence,
    )


def _price(client: OdooClient, summary: SupplierEmailSummary, change: DetectedChange) -> Proposal | None:
    if change.line_id is None or change.email_price is None:
        return None
    rows = client.read(
        "purchase.order.line",
        [change.line_id],
        ["price_unit", "product_qty", "qty_received", "write_date", "state", "order_id", "name"],
    )
    if not rows:
        return None
    line = rows[0]
    old, new = float(line["price_unit"]), float(change.email_price.amount)
    if abs(old - new) < 0.005:
        return None
    product = change.product.name if change.product else str(line["name"])
    currency = change.email_price.currency or (change.odoo_price.currency if change.odoo_price else None) or ""
    po = v.ref(line["order_id"])
    open_qty = max(float(line["product_qty"]) - float(line.get("qty_received") or 0), 0.0)
    exposure = (new - old) * open_qty  # what the change costs on what is still to be received
    return Proposal(
        title=f"Accept {change.po_name} {product} at {new:,.2f} {currency}".strip(),
        payload=AcceptPriceChange(
            po_id=po.id if po else 0,
            po_name=change.po_name or "",
            line_id=change.line_id,
            product=product,
            quantity=open_qty,
            old_price=old,
            new_price=new,
            currency=currency,
        ),
        target=_line_target(change, product, line, price_unit=old),
        diff=[DiffLine(field="Unit price", before=f"{old:,.2f}", after=f"{new:,.2f}")],
        amount=round(abs(exposure), 2),
        currency=currency or None,
        risk_tier=RiskTier.MEDIUM,
        source="supplier_email",
        evidence=[_email_evidence(summary)],
    )


def _substitute(client: OdooClient, summary: SupplierEmailSummary, change: DetectedChange) -> Proposal | None:
    """The line's product replaced by the substitute the supplier offers, when Odoo has that product."""
    if change.line_id is None or change.substitute is None:
        return None
    rows = client.read("purchase.order.line", [change.line_id], ["product_id", "write_date", "state", "order_id"])
    if not rows:
        return None
    line = rows[0]
    old, po = v.ref(line["product_id"]), v.ref(line["order_id"])
    if old is None or old.id == change.substitute.id:
        return None
    new = change.substitute
    return Proposal(
        title=f"Substitute {new.name} for {old.name} on {change.po_name}",
        payload=SubstituteProduct(
            po_id=po.id if po else 0,
            po_name=change.po_name or "",
            line_id=change.line_id,
            old_product_id=old.id,
            old_product=old.name,
            new_product_id=new.id,
            new_product=new.name,
        ),
        target=_line_target(change, old.name, line, product_id=old.id),
        diff=[DiffLine(field="Product", before=old.name, after=new.name)],
        risk_tier=RiskTier.MEDIUM,
        source="supplier_email",
        evidence=[_email_evidence(summary)],
    )


def _reduce(client: OdooClient, summary: SupplierEmailSummary, change: DetectedChange) -> Proposal | None:
    """A short supply whose rest the supplier cancels: the line's ordered quantity lowered by that rest."""
    if change.line_id is None or change.cancelled_quantity is None or change.cancelled_quantity.value <= 0:
        return None
    rows = client.read(
        "purchase.order.line",
        [change.line_id],
        ["product_qty", "qty_received", "product_uom_id", "write_date", "state", "order_id", "name"],
    )
    if not rows:
        return None
    line = rows[0]
    old, received = float(line["product_qty"]), float(line.get("qty_received") or 0)
    new = round(old - change.cancelled_quantity.value, 6)
    if new < received or new >= old:
        return None
    product = change.product.name if change.product else str(line["name"])
    unit = v.ref(line["product_uom_id"])
    uom = (unit.name if unit else None) or change.cancelled_quantity.uom
    po = v.ref(line["order_id"])
    return Proposal(
        title=f"Reduce {change.po_name} {product} to {new:g} {uom} (the rest cancelled)",
        payload=ReducePurchaseLineQuantity(
            po_id=po.id if po else 0,
            po_name=change.po_name or "",
            line_id=change.line_id,
            product=product,
            old_quantity=old,
            new_quantity=new,
            uom=uom or "",
        ),
        target=_line_target(change, product, line, product_qty=old),
        diff=[DiffLine(field="Ordered quantity", before=f"{old:g} {uom}", after=f"{new:g} {uom}")],
        risk_tier=RiskTier.MEDIUM,
        source="supplier_email",
        evidence=[_email_evidence(summary)],
    )


def proposals_from_supplier_email(
    summary: SupplierEmailSummary, client: OdooClient, *, on_behalf_of: str | None = None
) -> list[Proposal]:
    """Reschedules (a partial shipment's backorder to its date), price acceptances, product substitutions and
    reductions (a short supply's cancelled rest) the email supports (verified senders, matched in Odoo only)."""
    flags = [w for w in summary.warning_details if w.code in _ATTACK_SIGNS]
    out: dict[str, Proposal] = {}
    for change in summary.changes:
        if change.unverified or not change.matched_in_odoo or not change.po_name:
            continue
        proposal = None
        if change.kind in (ChangeKind.NEW_DATE, ChangeKind.PARTIAL_SHIPMENT) and change.email_date:
            proposal = _reschedule(client, summary, change)
        elif change.kind is ChangeKind.PRICE_CHANGE:
            proposal = _price(client, summary, change)
        elif change.kind is ChangeKind.SUBSTITUTION:
            proposal = _substitute(client, summary, change)
        elif change.kind is ChangeKind.SHORT_QUANTITY:
            proposal = _reduce(client, summary, change)
        if proposal is not None:
            update: dict[str, object] = {"on_behalf_of": on_behalf_of}
            if flags:  # legitimate content may still be proposed, but never at a low tier
                update["flagged_input"] = True
                update["reasons"] = [*proposal.reasons, *(f"email flagged: {w.message}" for w in flags)]
            proposal = proposal.model_copy(update=update)
            out.setdefault(proposal.idempotency_key, proposal)
    return list(out.values())


def proposals_from_triage(result: TicketClassification, client: OdooClient) -> list[Proposal]:
    """The label change of a classified ticket, if the classification proposes one."""
    update = result.proposal
    if update is None:
        return []
    rows = client.read("helpdesk.ticket", [update.record_id], ["write_date"])
    if not rows:
        return []
    return [
        Proposal(
            title=f"Relabel {update.record_name}",
            payload=SetTicketLabels(
                ticket_id=update.record_id,
                ticket_name=update.record_name,
                values=update.values,
                before=update.before,
                after=update.after,
            ),
            target=Target(
                model="helpdesk.ticket",
                id=update.record_id,
                display_name=update.record_name,
                write_date=rows[0]["write_date"],
            ),
            diff=[
                DiffLine(field=k, before=update.before.get(k) or "-", after=after) for k, after in update.after.items()
            ],
            risk_tier=RiskTier(update.risk_tier),
            reasons=[f"classifier confidence {update.confidence:.2f}"],
            source="triage",
            evidence=[
                Evidence(kind="ticket", label=update.record_name, model="helpdesk.ticket", res_id=update.record_id)
            ],
        )
    ]
