"""``copilot odoo ...``: the read-only tools from the command line (what the skills see)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from copilot.cli._output import awaits_goods, cell_sep, console, fmt_due, fmt_qty, overdue_fields, print_json
from copilot.cli._root import command_root
from copilot.errors import OdooNotFound
from copilot.tools import (
    find_partners,
    late_purchase_orders,
    product_availability,
    purchase_order_status,
    sale_order_status,
)
from copilot.tools.helpdesk import HelpdeskFlavour, detect_helpdesk, get_tickets, load_catalog
from copilot.tools.partner import find_vendor_id

if TYPE_CHECKING:
    from copilot.tools.helpdesk import Ticket

app = typer.Typer(help="Read Odoo through the copilot's read-only tools.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")
#: Stock move states that are no longer expected (a past date on them is not overdue).
_CLOSED_MOVES = frozenset({"done", "cancel"})


@app.command("po")
def po(reference: str = typer.Argument(..., help="Purchase order name, e.g. P00009."), json: bool = JSON) -> None:
    """Status of a purchase order: vendor, lines, expected dates, what was received."""
    with command_root() as root:
        odoo = root.odoo
        status = purchase_order_status(odoo.client, reference)
    today, waiting = odoo.as_of, awaits_goods(status.state, status.receipt_status)
    if json:
        data = status.model_dump(mode="json") | overdue_fields(status.date_planned, today, open_=waiting)
        for line, row in zip(status.lines, data["lines"], strict=True):
            row |= overdue_fields(line.date_planned, today, open_=waiting and line.quantity_received < line.quantity)
        return print_json(data)
    console.print(
        f"[bold]{status.name}[/] · {status.vendor.name} · {status.state}"
        f" · expected {fmt_due(status.date_planned, today, open_=waiting)}"
        f" · receipt {status.receipt_status or '-'} · {status.amount_total:,.2f} {status.currency}"
    )
    table = Table("product", "ordered", "received", "unit price")
    table.add_column("expected", no_wrap=True)  # a date and its overdue mark never break mid-way
    sep = cell_sep()
    for line in status.lines:
        table.add_row(
            line.product.name if line.product else line.description,
            f"{fmt_qty(line.quantity)} {line.uom}",
            fmt_qty(line.quantity_received),
            f"{line.price_unit:,.2f}",
            fmt_due(line.date_planned, today, open_=waiting and line.quantity_received < line.quantity, sep=sep),
        )
    console.print(table)


@app.command("late")
def late(
    vendor: str | None = typer.Option(None, help="Only this vendor (name)."),
    limit: int = typer.Option(50, min=1, max=500),
    json: bool = JSON,
) -> None:
    """Confirmed purchase orders past their expected arrival with goods still to receive."""
    with command_root() as root:
        odoo = root.odoo
        vendor_id = find_vendor_id(odoo.client, vendor) if vendor else None
        rows = late_purchase_orders(odoo.client, as_of=odoo.as_of, vendor_id=vendor_id, limit=limit)
    if json:
        return print_json(rows)
    table = Table("PO", "vendor")
    table.add_column("expected", no_wrap=True)
    table.add_column("receipt")
    table.add_column("amount")
    for r in rows:
        table.add_row(
            r.name, r.vendor.name, fmt_due(r.date_planned, odoo.as_of), r.receipt_status or "-",
            f"{r.amount_total:,.2f} {r.currency}",
        )  # fmt: skip
    console.print(table)


@app.command("so")
def so(
    reference: str = typer.Argument(..., help="Sale order name (S00004) or customer reference."), json: bool = JSON
) -> None:
    """Delivery state of a sale order: shipped, reserved, short, and when more is expected."""
    with command_root() as root:
        odoo = root.odoo
        status = sale_order_status(odoo.client, reference)
    today = odoo.as_of
    if json:
        data = status.model_dump(mode="json")
        for line, row in zip(status.lines, data["lines"], strict=True):
            row |= overdue_fields(line.expected_date, today)
        return print_json(data)
    console.print(f"[bold]{status.name}[/] · {status.customer.name} · {status.state}")
    table = Table("product", "ordered", "delivered", "reserved", "short")
    table.add_column("next receipt", no_wrap=True)
    sep = cell_sep()
    for line in status.lines:
        table.add_row(
            line.product.name, f"{fmt_qty(line.ordered)} {line.uom}", fmt_qty(line.delivered),
            fmt_qty(line.reserved), fmt_qty(line.short), fmt_due(line.expected_date, today, sep=sep),
        )  # fmt: skip
    console.print(table)


@app.command("stock")
def stock(
    query: str = typer.Argument(..., help="Internal reference (FURN_8888) or part of a name."), json: bool = JSON
) -> None:
    """On hand, reserved and free stock of products, and their open receipts."""
    with command_root() as root:
        odoo = root.odoo
        rows = product_availability(odoo.client, query)
    if not rows:
        raise OdooNotFound(
            f"no product matches {query!r} (internal reference or part of a name)", model="product.product"
        )
    today = odoo.as_of
    if json:
        data = [r.model_dump(mode="json") for r in rows]
        for r, row in zip(rows, data, strict=True):
            for move, out in zip(r.incoming, row["incoming"], strict=True):
                out |= overdue_fields(move.date, today, open_=move.state not in _CLOSED_MOVES)
        return print_json(data)
    table = Table("product", "on hand", "reserved", "free")
    table.add_column("incoming", no_wrap=True)  # one receipt a line
    sep = cell_sep()
    for r in rows:
        incoming = (
            "\n".join(
                f"{fmt_qty(m.demand)} on {fmt_due(m.date, today, open_=m.state not in _CLOSED_MOVES, sep=sep)}"
                for m in r.incoming
            )
            or "-"
        )
        table.add_row(r.product.name, fmt_qty(r.on_hand), fmt_qty(r.reserved), fmt_qty(r.available), incoming)
    console.print(table)


@app.command("partner")
def partner(query: str = typer.Argument(..., help="Name, email or reference."), json: bool = JSON) -> None:
    """Find customers, vendors and contacts."""
    with command_root() as root:
        odoo = root.odoo
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
    with command_root() as root:
        odoo = root.odoo
        schema = detect_helpdesk(odoo.client)
        if schema.flavour is HelpdeskFlavour.NONE:
            raise OdooNotFound("this Odoo has no Helpdesk app (Enterprise helpdesk or OCA helpdesk_mgmt)")
        catalog = load_catalog(odoo.client, schema)
        domain = [("stage_id", "not in", catalog.closed_stage_ids)] if open_only else None
        rows = get_tickets(odoo.client, catalog, domain=domain, limit=limit)
    if json:
        return print_json(rows)
    console.print(
        _tickets_table(rows, title=f"{len(rows)} helpdesk tickets ({schema.flavour})", wide=console.width >= 140)
    )


def _tickets_table(rows: list[Ticket], *, title: str, wide: bool) -> Table:
    """One line per ticket; long names end in an ellipsis. Narrow: the customer's company, no category or team."""
    # Columns with a ratio share what the fixed ones leave, so the table always fits the terminal.
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, expand=True)
    table.add_column("ticket", no_wrap=True)
    if wide:
        table.add_column("customer", no_wrap=True, overflow="ellipsis", ratio=2)
    else:
        table.add_column("customer", no_wrap=True, overflow="ellipsis", max_width=18)
    table.add_column("subject", no_wrap=True, overflow="ellipsis", ratio=3)
    if wide:
        table.add_column("category", no_wrap=True, overflow="ellipsis", ratio=2)
        table.add_column("team", no_wrap=True, overflow="ellipsis")
    table.add_column("priority", no_wrap=True)
    table.add_column("stage", no_wrap=True, overflow="ellipsis")
    for t in rows:
        lab = t.labels
        customer = t.customer.name if t.customer else "-"
        cells = [t.reference or str(t.id), customer if wide else customer.split(",")[0], t.subject]
        if wide:
            cells += [lab.category.name if lab.category else "-", lab.team.name if lab.team else "-"]
        priority = (lab.priority_label or "-").removesuffix(" priority")  # Enterprise says "High priority"
        cells += [priority, lab.stage.name if lab.stage else "-"]
        table.add_row(*(escape(c) for c in cells))
    return table
