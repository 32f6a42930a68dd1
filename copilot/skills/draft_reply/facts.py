"""Who is writing, which orders the message is about, and what Odoo says about them now.

Explicit order references come first, then the customer's open orders. An order that belongs to
another customer is never read in detail: the draft asks which order is meant and the agent is told
why. Every fact keeps its citation.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.skills.draft_reply.schemas import DraftRequest, Intent
from copilot.text.email_address import email_addresses
from copilot.text.references import SO_REF
from copilot.tools import _values as v
from copilot.tools.partner import find_partners
from copilot.tools.sale import sale_order_status
from copilot.tools.schemas import PartnerMatch, Ref, SaleOrderStatus

__all__ = ["Gathered", "detect_intent", "gather", "with_ticket_subject"]

_CUSTOMER_REF = re.compile(r"\b[A-Z]{2,5}(?:-[A-Z0-9]{2,6})*-\d{2,6}\b")  # DA-88213, AZ-PO-4471, OW-2026-118
_INTENTS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    ("damaged", re.compile(r"\b(?:damag\w*|broken|cracked|dent\w*|scratch\w*|crushed|defect\w*)\b", re.I)),
    ("missing", re.compile(r"\b(?:missing|short|only (?:got|received)|fewer|incomplete)\b", re.I)),
    (
        "wrong_item",
        re.compile(r"\b(?:wrong (?:item|product|colou?r|size|desk|chair)|instead of|not what we ordered)\b", re.I),
    ),
    ("return", re.compile(r"\b(?:return|rma|send (?:it )?back)\b", re.I)),
    ("billing", re.compile(r"\b(?:invoic\w*|bill(?:ing|ed)?|charg\w*|payments?|statements?|credit note|paid)\b", re.I)),
    ("change", re.compile(r"\b(?:change|cancel|modify|different address|add \d+)\b", re.I)),
    (
        "status",
        re.compile(r"\b(?:where|status|when|eta|track\w*|ship\w*|deliver\w*|arriv\w*|late|still waiting)\b", re.I),
    ),
)
#: A customer names a few orders; a flood of references is not read (one Odoo query stays small).
_MAX_REFS = 10
_PICKING_FIELDS = ["name", "state", "scheduled_date", "date_done", "origin", "picking_type_id"]


def _id(value: Any) -> int | None:
    ref = v.ref(value)
    return ref.id if ref else None


_PICKING_FIELDS_BY_CLIENT: weakref.WeakKeyDictionary[OdooClient, list[str]] = weakref.WeakKeyDictionary()


def _picking_fields(client: OdooClient) -> list[str]:
    """The picking fields to read; the tracking ones when Odoo's delivery app has them (asked once per client)."""
    fields = _PICKING_FIELDS_BY_CLIENT.get(client)
    if fields is None:
        fields = list(_PICKING_FIELDS)
        if "carrier_tracking_ref" in client.fields_get("stock.picking", ["type"]):
            fields += ["carrier_tracking_ref", "carrier_id"]
        _PICKING_FIELDS_BY_CLIENT[client] = fields
    return fields


def detect_intent(text: str) -> Intent:
    """What the customer wants, by the first matching cue (claims before status)."""
    for intent, pattern in _INTENTS:
        if pattern.search(text):
            return intent
    return "other"


@dataclass
class Gathered:
    """Everything read from Odoo for one message."""

    customer: PartnerMatch | None = None
    commercial_id: int | None = None
    orders: list[SaleOrderStatus] = field(default_factory=list)
    pickings: dict[int, dict[str, Any]] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    ambiguous: list[Ref] = field(default_factory=list)
    unidentified: list[str] = field(default_factory=list)
    #: The customer the request named (name or e-mail) when no partner in Odoo matches it.
    customer_not_found: str | None = None


def _identify(client: OdooClient, request: DraftRequest) -> PartnerMatch | None:
    for query in (request.customer, request.sender_email, *email_addresses(request.customer or "")):
        if query:
            matches = find_partners(client, query, limit=3)
            if matches:
                return matches[0]
    if request.ticket_id is not None:
        rows = client.read("helpdesk.ticket", [request.ticket_id], ["partner_id"])
        partner = v.ref(rows[0]["partner_id"]) if rows else None
        if partner is not None:
            found = find_partners(client, partner.name, limit=1)
            return found[0] if found else None
    return None


def with_ticket_subject(client: OdooClient, request: DraftRequest) -> tuple[DraftRequest, bool]:
    """The request with its ticket's subject when it gives none (the subject often names the order: "ETA for 10
    Corner Desks - S00024"), on every channel; ``False`` when the ticket is not in Odoo."""
    if request.ticket_id is None:
        return request, True
    rows = client.read("helpdesk.ticket", [request.ticket_id], ["name"])
    if not rows:
        return request, False
    if request.subject or not rows[0].get("name"):
        return request, True
    return DraftRequest.model_validate({**request.model_dump(), "subject": str(rows[0]["name"])}), True


def _orders_named(client: OdooClient, text: str) -> dict[str, str]:
    """Order name -> how the message named it (its S number, or the customer's own PO reference)."""
    named = {m.upper(): m.upper() for m in list(dict.fromkeys(SO_REF.findall(text)))[:_MAX_REFS]}
    refs = list(dict.fromkeys(_CUSTOMER_REF.findall(text)))[:_MAX_REFS]
    if refs:
        domain: list[Any] = ["|"] * (len(refs) - 1) + [("client_order_ref", "=ilike", r) for r in refs]
        for row in client.search_read("sale.order", domain, ["name", "client_order_ref"], limit=5):
            named.setdefault(row["name"], str(row["client_order_ref"]))
    return named


def gather(client: OdooClient, request: DraftRequest, intent: Intent, *, max_orders: int = 3) -> Gathered:
    """The customer, their orders (named, else open), pickings, and invoices when billing is asked."""
    out = Gathered()
    text = f"{request.subject}\n{request.message}"
    out.customer = _identify(client, request)
    if out.customer is None and request.customer:
        out.customer_not_found = request.customer
    if out.customer is not None:
        out.commercial_id = out.customer.company.id if out.customer.company else out.customer.id
    named = _orders_named(client, text)
    chosen: list[str] = []
    if named:
        rows = client.search_read("sale.order", [("name", "in", list(named))], ["name", "partner_id"])
        partners = sorted({pid for r in rows if (pid := _id(r["partner_id"])) is not None})
        owner = {
            p["id"]: _id(p["commercial_partner_id"])
            for p in client.read("res.partner", partners, ["commercial_partner_id"])
        }
        found = {r["name"]: owner.get(_id(r["partner_id"]) or 0) for r in rows}
        out.not_found = [n for n in named if n not in found]
        for name, owner in found.items():
            if out.commercial_id is None:
                out.unidentified.append(named[name])  # nobody to check the order against: read nothing
            elif owner != out.commercial_id:
                out.foreign.append(named[name])  # another customer's: only the customer's own words are repeated
            else:
                chosen.append(name)
    elif out.commercial_id is not None:
        rows = client.search_read(
            "sale.order",
            [
                ("partner_id.commercial_partner_id", "=", out.commercial_id),
                ("state", "=", "sale"),
                ("delivery_status", "!=", "full"),
            ],
            ["name"],
            order="date_order desc, id desc",
            limit=10,
        )
        if len(rows) == 1:
            chosen = [rows[0]["name"]]
        elif rows:
            out.ambiguous = [Ref(id=r["id"], name=r["name"]) for r in rows]
    for name in chosen[:max_orders]:
        try:
            out.orders.append(sale_order_status(client, name))
        except OdooNotFound:
            out.not_found.append(name)
    picking_ids = {d.id for o in out.orders for d in o.deliveries}
    picking_ids |= {m.picking.id for o in out.orders for ln in o.lines for m in ln.incoming if m.picking}
    if picking_ids:
        fields = _picking_fields(client)
        out.pickings = {p["id"]: p for p in client.read("stock.picking", sorted(picking_ids), fields)}
    if intent == "billing" and (out.orders or out.commercial_id is not None):
        domain: list[Any] = [("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        if out.orders:
            domain.append(("invoice_origin", "in", [o.name for o in out.orders]))
        else:
            domain.append(("partner_id.commercial_partner_id", "=", out.commercial_id))
        out.invoices = client.search_read(
            "account.move",
            domain,
            ["name", "amount_total", "amount_residual", "payment_state", "invoice_date_due", "currency_id"],
            order="invoice_date desc, id desc",
            limit=5,
        )
    return out
