"""The Odoo facts a supplier email is checked against, gathered in a few batched read-only calls."""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass, field

from copilot.citations import Ref
from copilot.odoo import OdooClient
from copilot.tools.addresses import addresses_in, escape_like, normalise_address
from copilot.tools.partner import contacts_of, find_partners
from copilot.tools.purchase import get_purchase_orders
from copilot.tools.schemas import PartnerMatch, PurchaseOrderStatus

__all__ = ["OdooFacts", "find_products", "gather_facts", "is_staff"]

#: At most this many products are looked up for the substitutes one email offers.
MAX_SUBSTITUTES = 10


@dataclass(frozen=True)
class OdooFacts:
    """POs named in the email, their vendors' contacts, and partners carrying the sender's address."""

    orders: list[PurchaseOrderStatus] = field(default_factory=list)
    contacts: dict[int, list[PartnerMatch]] = field(default_factory=dict)
    sender_partners: list[PartnerMatch] = field(default_factory=list)
    products: list[Ref] = field(default_factory=list)

    def order(self, name: str | None) -> PurchaseOrderStatus | None:
        """The resolved PO with this name, if any."""
        if not name:
            return None
        return next((o for o in self.orders if o.name.upper() == name.upper()), None)


def _emails(partner: PartnerMatch) -> set[str]:
    return {a.lower() for _, a in email.utils.getaddresses([partner.email or ""]) if "@" in a}


def is_staff(client: OdooClient, address: str) -> bool:
    """True when ``address`` is exactly the login or email of an active internal Odoo user (one round trip)."""
    wanted = normalise_address(address)
    if not wanted or "@" not in wanted:
        return False
    pattern = escape_like(wanted)
    rows = client.search_read(
        "res.users",
        ["|", ("login", "=ilike", pattern), ("email", "=ilike", pattern)],
        ["login", "email", "share"],
        limit=5,
    )
    return any(
        not r.get("share")
        and (str(r.get("login") or "").strip().lower() == wanted or wanted in addresses_in(r.get("email") or None))
        for r in rows
    )


def find_products(client: OdooClient, codes: Sequence[str], names: Sequence[str]) -> list[Ref]:
    """Purchasable products with one of these internal references or exactly one of these names (one round trip)."""
    codes = list(dict.fromkeys(c for c in codes if c))[:MAX_SUBSTITUTES]
    names = list(dict.fromkeys(n for n in names if n))[:MAX_SUBSTITUTES]
    terms: list[tuple[str, str, object]] = []
    if codes:
        terms.append(("default_code", "in", codes))
    terms += [("name", "=ilike", escape_like(n)) for n in names]
    if not terms:
        return []
    domain: list[object] = ["|"] * (len(terms) - 1) + list(terms)
    rows = client.search_read("product.product", domain, ["display_name"], limit=2 * MAX_SUBSTITUTES)
    return [Ref(id=int(r["id"]), name=str(r["display_name"])) for r in rows]


def gather_facts(
    client: OdooClient,
    po_refs: Sequence[str],
    sender: str | None,
    *,
    substitutes: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> OdooFacts:
    """Read the POs (two round trips), their vendors' contacts (one) and, for a stranger, who uses the address.

    The last lookup runs only when the sender is not a contact of the POs' vendors, to tell another
    vendor's contact from an unknown address. ``substitutes`` (codes, names) of products offered instead:
    looked up in one more round trip, only when an email offers one.
    """
    orders = get_purchase_orders(client, list(po_refs)) if po_refs else []
    contacts = contacts_of(client, [o.vendor.id for o in orders if o.vendor.id])
    known = {a for partners in contacts.values() for p in partners for a in _emails(p)}
    sender_partners: list[PartnerMatch] = []
    if sender and orders and sender.lower() not in known:
        sender_partners = [p for p in find_partners(client, sender, limit=5) if sender.lower() in _emails(p)]
    products = find_products(client, *substitutes) if orders and any(substitutes) else []
    return OdooFacts(orders=orders, contacts=contacts, sender_partners=sender_partners, products=products)
