"""``--ticket``: a helpdesk ticket as a person names it (its number, as `copilot odoo tickets` shows it) or its id."""

from __future__ import annotations

import typer

from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools.helpdesk import TICKET_MODEL, HelpdeskFlavour, detect_helpdesk

__all__ = ["TICKET_HELP", "resolve_ticket"]

#: The option's help, shared by the commands that take a ticket.
TICKET_HELP = "The helpdesk ticket: its number as `copilot odoo tickets` shows it (HT00011) or its id."


def resolve_ticket(client: OdooClient, value: str) -> int:
    """The database id of the ticket ``value`` names (number or id); ``OdooNotFound`` when there is none."""
    given = value.strip().removeprefix("#")
    if not given:
        raise typer.BadParameter("give a ticket number (HT00011) or id", param_hint="--ticket")
    schema = detect_helpdesk(client)
    if schema.flavour is HelpdeskFlavour.NONE:
        raise OdooNotFound("this Odoo has no Helpdesk app, so there are no tickets", model=TICKET_MODEL)
    if schema.reference_field:
        names = list(dict.fromkeys([given, given.upper()]))
        rows = client.search_read(TICKET_MODEL, [(schema.reference_field, "in", names)], ["id"], limit=2)
        if len(rows) == 1:
            return int(rows[0]["id"])
    if given.isdigit():
        rows = client.search_read(TICKET_MODEL, [("id", "=", int(given))], ["id"], limit=1)
        if rows:
            return int(rows[0]["id"])
    raise OdooNotFound(
        f"no helpdesk ticket {value!r}: give its number as `copilot odoo tickets` shows it, or its id",
        model=TICKET_MODEL,
    )
