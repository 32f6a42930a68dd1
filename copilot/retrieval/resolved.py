"""Resolved helpdesk tickets from Odoo into the ``tickets`` collection (a past answer is knowledge too)."""

from __future__ import annotations

from copilot.odoo import OdooClient
from copilot.retrieval.schemas import TicketText
from copilot.retrieval.tickets import TicketIndex
from copilot.tools.helpdesk import HelpdeskFlavour, detect_helpdesk, get_tickets, load_catalog

__all__ = ["index_resolved_tickets"]


def index_resolved_tickets(client: OdooClient, tickets: TicketIndex, *, limit: int = 10_000) -> tuple[int, int]:
    """Store every ticket in a closed stage with its labels; returns (embedded now, resolved in Odoo).

    Unchanged tickets are not embedded again, so a nightly run costs only what changed.
    """
    schema = detect_helpdesk(client)
    if schema.flavour is HelpdeskFlavour.NONE:
        return 0, 0
    catalog = load_catalog(client, schema)
    if not catalog.closed_stage_ids:
        return 0, 0
    resolved = get_tickets(client, catalog, domain=[("stage_id", "in", catalog.closed_stage_ids)], limit=limit)
    texts = [
        TicketText(
            ticket_id=t.id,
            name=f"{t.reference or t.id} {t.subject}".strip(),
            text=f"{t.subject}\n{t.body}".strip() or t.subject or str(t.id),
            metadata={
                k: val
                for k, val in {
                    "category": t.labels.category.name if t.labels.category else "",
                    "team": t.labels.team.name if t.labels.team else "",
                    "priority": t.labels.priority or "",
                    "customer": t.customer.name if t.customer else "",
                }.items()
                if val
            },
        )
        for t in resolved
    ]
    return tickets.upsert(texts), len(texts)
