"""``copilot odoo ...``: the read-only tools from the command line (what the skills see)."""

from __future__ import annotations

import typer
from rich.table import Table

from copilot.cli._output import console, fmt_date, fmt_qty, print_json
from copilot.config import get_settings
from copilot.errors import OdooNotFound
from copilot.runtime import odoo_session
from copilot.tools import (
    find_partners,
    late_purchase_orders,
    product_availability,
    purchase_order_status,
    sale_order_status,
)
from copilot.tools.helpdesk import HelpdeskFlavour, detect_helpdesk, get_tickets, load_catalog
from copilot.tools.partner import find_vendor_id

app = typer.Typer(help="Read Odoo through the copilot's read-only tools.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")


@app.command("po")
def po(reference: str = typer.Argument(..., help="Purchase order name, e.g. P00009."), json: bool = JSON) -> None:
    """Status of a purchase order: vendor, lines, expected dates, what was received."""
    with odoo_session(get_settings()) as odoo:
        status = purchase_order_status(odoo.client, reference)
    if json:
        return print_json(status)
    console.print(
        f"[bold]{status.name}[/] · {status.vendor.name} · {status.state} · expected {fmt_date(status.date_planned)}"
        f" · receipt {status.receipt_status or '-'} · {status.amount_total:,.2f} {status.currency}"
    )
    table = Table("product", "ordered", "received", "unit price", "expected")
    for line in status.lines:
        table.add_row(
            line.product.name if line.product else line.description,
            f"{fmt_qty(line.quantity)} {line.uom}",
            fmt_qty(line.quantity_received),
            f"{line.price_unit:,.2f}",
            fmt_date(line.date_planned),
        )
    console.print(table)


@app.command("late")
def late(
    vendor: str | None = typer.Option(None, help="Only this vendor (name)."),
    limit: int = typer.Option(50, min=1, max=500),
    json: bool = JSON,
) -> None:
    """Confirmed purchase orders past their expected arrival with goods still to receive."""
    with odoo_session(get_settings()) as odoo:
        vendor_id = find_vendor_id(odoo.client, vendor) if vendor else None
        rows = late_purchase_orders(odoo.client, as_of=odoo.as_of, vendor_id=vendor_id, limit=limit)
    if json:
        return print_json(rows)
    table = Table("PO", "vendor", "expected", "days late", "receipt", "amount")
    for r in rows:
        table.add_row(
            r.name, r.vendor.name, fmt_date(r.date_planned), str(r.days_late), r.receipt_status or "-",
            f"{r.amount_total:,.2f} {r.currency}",
        )  # fmt: skip
    console.print(table)


@app.command("so")
def so(
    reference: str = typer.Argument(..., help="Sale order name (S00004) or customer reference."), json: bool = JSON
) -> None:
    """Delivery state of a sale order: shipped, reserved, short, and when more is expected."""
    with odoo_session(get_settings()) as odoo:
        status = sale_order_status(odoo.client, reference)
    if json:
        return print_json(status)
    console.print(f"[bold]{status.name}[/] · {status.customer.name} · {status.state}")
    table = Table("product", "ordered", "delivered", "reserved", "short", "next receipt")
    for line in status.lines:
        table.add_row(
            line.product.name, f"{fmt_qty(line.ordered)} {line.uom}", fmt_qty(line.delivered),
            fmt_qty(line.reserved), fmt_qty(line.short), fmt_date(line.expected_date),
        )  # fmt: skip
    console.print(table)


@app.command("stock")
def stock(
    query: str = typer.Argument(..., help="Internal reference (FURN_8888) or part of a name."), json: bool = JSON
) -> None:
    """On hand, reserved and free stock of products, and their open receipts."""
    with odoo_session(get_settings()) as odoo:
        rows = product_availability(odoo.client, query)
    if not rows:
        raise OdooNotFound(
            f"no product matches {query!r} (internal reference or part of a name)", model="product.product"
        )
    if json:
        return print_json(rows)
    table = Table("product", "on hand", "reserved", "free", "incoming")
    for r in rows:
        incoming = ", ".join(f"{fmt_qty(m.demand)} on {fmt_date(m.date)}" for m in r.incoming) or "-"
        table.add_row(r.product.name, fmt_qty(r.on_hand), fmt_qty(r.reserved), fmt_qty(r.available), incoming)
    console.print(table)


@app.command("partner")
def partner(query: str = typer.Argument(..., help="Name, email or reference."), json: bool = JSON) -> None:
    """Find customers, vendors and contacts."""
    with odoo_session(get_settings()) as odoo:
        rows = find_partners(odoo.client, query)
    if not rows:
        raise OdooNotFound(f"no partner matches {query!r} (name, e-mail or reference)", model="res.partner")
    if json:
        return print_json(rows)
    table = Table("id", "name", "email", "company")
    for r in rows:
        table.add_row(str(r.id), r.display_name, r.email or "-", "yes" if r.is_company else "")
    console.print(table)


@app.command("tickets")
def tickets(
    open_only: bool = typer.Option(False, "--open", help="Only tickets in a stage that is not closed."),
    limit: int = typer.Option(50, min=1, max=1000),
    json: bool = JSON,
) -> None:
    """Helpdesk tickets with their labels (category or type, team, priority, tags, stage)."""
    with odoo_session(get_settings()) as odoo:
        schema = detect_helpdesk(odoo.client)
        if schema.flavour is HelpdeskFlavour.NONE:
            raise OdooNotFound("this Odoo has no Helpdesk app (Enterprise helpdesk or OCA helpdesk_mgmt)")
        catalog = load_catalog(odoo.client, schema)
        domain = [("stage_id", "not in", catalog.closed_stage_ids)] if open_only else None
        rows = get_tickets(odoo.client, catalog, domain=domain, limit=limit)
    if json:
        return print_json(rows)
    table = Table("ticket", "subject", "category", "team", "priority", "stage", title=f"Helpdesk: {schema.flavour}")
    for t in rows:
        lab = t.labels
        table.add_row(
            t.reference or str(t.id), t.subject, lab.category.name if lab.category else "-",
            lab.team.name if lab.team else "-", lab.priority_label or "-", lab.stage.name if lab.stage else "-",
        )  # fmt: skip
    console.print(table)
