"""Partner lookup: customers, vendors and their contacts."""

from __future__ import annotations

from collections.abc import Sequence

from copilot.citations import Citation
from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools import _values as v
from copilot.tools.addresses import addresses_in, escape_like, exact_address_domain, normalise_address
from copilot.tools.schemas import PartnerMatch

__all__ = ["contacts_of", "find_partners", "find_partners_by_email", "find_vendor_id", "get_partner_contacts"]

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
    """Partners with exactly the address ``query``, else whose name contains it or whose reference it is.

    An address (``a@b``) is compared whole and case-insensitively, never as a substring or a pattern:
    ``5@example.com`` is not ``brandon.freeman55@example.com``. ``%`` and ``_`` are literal characters in
    names and references too. One round trip.
    """
    q = query.strip()
    if not q:
        return []
    if "@" in q:
        return find_partners_by_email(client, q, limit=limit)
    pattern = escape_like(q)
    domain = ["|", "|", ("complete_name", "ilike", pattern), ("email", "ilike", pattern), ("ref", "=ilike", pattern)]
    rows = client.search_read("res.partner", domain, PARTNER_FIELDS, limit=limit, order="complete_name asc, id asc")
    return [_match(r) for r in rows]


def find_partners_by_email(client: OdooClient, address: str, *, limit: int = 10) -> list[PartnerMatch]:
    """Partners whose email is exactly ``address`` (normalised, case-insensitive; one round trip)."""
    wanted = normalise_address(address)
    if not wanted or "@" not in wanted:
        return []
    rows = client.search_read(
        "res.partner",
        exact_address_domain("email", wanted),
        PARTNER_FIELDS,
        limit=max(limit, 1) * 4,
        order="complete_name asc, id asc",
    )
    return [_match(r) for r in rows if wanted in addresses_in(v.text(r["email"]))][:limit]


def get_partner_contacts(client: OdooClient, partner_id: int) -> list[PartnerMatch]:
    """A partner and its child contacts, with their emails (one round trip)."""
    return contacts_of(client, [partner_id]).get(partner_id, [])


def contacts_of(client: OdooClient, partner_ids: Sequence[int]) -> dict[int, list[PartnerMatch]]:
    """Each partner (first) and its child contacts, by partner id, in one round trip for all of them."""
    ids = list(dict.fromkeys(partner_ids))
    if not ids:
        return {}
    domain = ["|", ("id", "in", ids), ("parent_id", "in", ids)]
    rows = client.search_read("res.partner", domain, PARTNER_FIELDS, order="id asc")
    out: dict[int, list[PartnerMatch]] = {i: [] for i in ids}
    for match in map(_match, rows):
        if match.id in out:
            out[match.id].insert(0, match)
        if match.company is not None and match.company.id in out:
            out[match.company.id].append(match)
    return out


def find_vendor_id(client: OdooClient, name: str) -> int:
    """The company id of the best partner match for ``name``; ``OdooNotFound`` if none (one round trip).

    "wood" means Wood Corner rather than OpenWood: a name that starts with the words asked for beats
    one that merely contains them, and a company beats its contacts.
    """
    found = find_partners(client, name, limit=20)
    if not found:
        raise OdooNotFound(f"no vendor matching {name!r}", model="res.partner")
    wanted = name.strip().lower()

    def rank(match: PartnerMatch) -> tuple[int, int, int]:
        label = match.display_name.split(",")[0].strip().lower()
        return (0 if label == wanted else 1, 0 if label.startswith(wanted) else 1, 0 if match.is_company else 1)

    best = min(found, key=rank)
    return best.company.id if best.company else best.id
