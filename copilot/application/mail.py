"""The Odoo reads behind the mail use cases: who an outside address is, and who buys the POs an email names.

Called only inside the facade's pipeline (the principal's company scope, the audit record), never by a channel.
"""

from __future__ import annotations

from copilot.application.outcomes import SenderRoles
from copilot.odoo import OdooClient
from copilot.tools.addresses import addresses_in, exact_address_domain, normalise_address

__all__ = ["po_buyers", "sender_roles"]


def sender_roles(client: OdooClient, address: str) -> SenderRoles:
    """Whether the address's company has purchase orders (a vendor) and sale orders (a customer)."""
    wanted = normalise_address(address)
    if not wanted:
        return SenderRoles()
    rows = client.search_read(
        "res.partner", exact_address_domain("email", wanted), ["email", "commercial_partner_id"], limit=20
    )
    ids = sorted(
        {(r["commercial_partner_id"] or [r["id"]])[0] for r in rows if wanted in addresses_in(r["email"] or None)}
    )
    if not ids:
        return SenderRoles()
    vendor = client.search_count("purchase.order", [("partner_id", "child_of", ids)]) > 0
    customer = client.search_count("sale.order", [("partner_id", "child_of", ids)]) > 0
    return SenderRoles(vendor=vendor, customer=customer)


def po_buyers(client: OdooClient, po_ids: list[int]) -> list[str]:
    """Email addresses of the POs' purchasers (Odoo's ``user_id``), in PO order."""
    if not po_ids:
        return []
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
