"""Partner lookup: customers, vendors and their contacts."""

from __future__ import annotations

from copilot.citations import Citation
from copilot.tools import _values as v
from copilot.tools.odoo import OdooClient
from copilot.tools.schemas import PartnerMatch

__all__ = ["find_partners", "get_partner_contacts"]

PARTNER_FIELDS = ["complete_name", "email", "is_company", "parent_id"]


def _match(row: dict) -> PartnerMatch:
    name = v.text(row["complete_name"]) or f"res.partner,{row['id']}"
    return PartnerMatch(
        id=row["id"],
        display_name=name,
        email=v.text(row["email"]),
        is_company=bool(row["is_company"]),
        company=v.ref(row["parent_id"]),
        citation=Citation(model="res.partner", id=row["id"], display_name=name),
    )


def find_partners(client: OdooClient, query: str, *, limit: int = 10) -> list[PartnerMatch]:
    """Partners whose name or email contains ``query``, or whose reference is ``query`` (one round trip)."""
    q = query.strip()
    if not q:
        return []
    domain = ["|", "|", ("complete_name", "ilike", q), ("email", "ilike", q), ("ref", "=ilike", q)]
    rows = client.search_read("res.partner", domain, PARTNER_FIELDS, limit=limit, order="complete_name asc, id asc")
    return [_match(r) for r in rows]


def get_partner_contacts(client: OdooClient, partner_id: int) -> list[PartnerMatch]:
    """A partner and its child contacts, with their emails (one round trip)."""
    domain = ["|", ("id", "=", partner_id), ("parent_id", "=", partner_id)]
    rows = client.search_read("res.partner", domain, PARTNER_FIELDS, order="id asc")
    return [_match(r) for r in rows]
