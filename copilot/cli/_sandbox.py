"""``copilot sandbox``: the Odoo sandbox on a port, for manual use and other clients."""

from __future__ import annotations

from typing import Literal

import typer


def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (keep it on loopback)."),
    port: int = typer.Option(8069, min=0, max=65535, help="Port (Odoo's default is 8069; 0 picks a free one)."),
    helpdesk: Literal["oca", "enterprise", "none"] = typer.Option(
        "oca",
        help="Helpdesk app to serve: oca (recorded OCA helpdesk_mgmt), enterprise (the same tickets shaped like "
        "Odoo Enterprise helpdesk) or none (no Helpdesk app).",
    ),
) -> None:
    """Serve the seeded Odoo sandbox over JSON-RPC until Ctrl-C (users: copilot/copilot, admin/admin, ...)."""
    from copilot.sandbox import serve_forever

    serve_forever(host, port, helpdesk=helpdesk)
