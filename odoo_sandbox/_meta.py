"""Model-level knowledge of the sandbox: descriptions, default orders, display names.

Field metadata and records come from ``data/*.json`` (built from the recorded reference);
what lives here is what a ``fields_get`` does not tell: each model's ``_description``,
``_order``, ``_rec_names_search``, parent field, ``_inherits`` link and the rule Odoo 18 uses
to compute ``display_name``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENTERPRISE_TICKET_META",
    "MODEL_META",
    "DisplayRule",
    "LabelGetter",
    "ModelMeta",
    "RecordGetter",
    "compute_display_name",
    "meta_for",
]

Record = dict[str, Any]
RecordGetter = Callable[[str, int], "Record | None"]
LabelGetter = Callable[[str, int], str]
DisplayRule = Callable[[RecordGetter, Record], str]


@dataclass(frozen=True)
class ModelMeta:
    """What the ORM knows about a model beyond its fields."""

    description: str
    order: str = "id"
    rec_name: str = "name"
    rec_names_search: tuple[str, ...] = ()
    parent_name: str | None = None
    inherits: tuple[str, str] | None = None  # (parent model, link field)
    #: how ``display_name`` is built, when not by the rules table below or the ``rec_name`` field
    display: DisplayRule | None = None


MODEL_META: dict[str, ModelMeta] = {
    "account.move": ModelMeta(
        "Journal Entry",
        "date desc, name desc, invoice_date desc, id desc",
        rec_names_search=("name", "partner_id.name", "ref"),
    ),
    "copilot.approval.decision": ModelMeta("Copilot Approval Decision", "date desc, id desc"),
    "copilot.approval.request": ModelMeta("Copilot Approval Request", "id desc"),
    "copilot.exception": ModelMeta("Copilot Exception", "severity_rank, first_seen, id", rec_name="title"),
    "helpdesk.ticket": ModelMeta(
        "Helpdesk Ticket", "priority desc, sequence, number desc, id desc", rec_names_search=("number", "name")
    ),
    "helpdesk.ticket.category": ModelMeta("Helpdesk Ticket Category", "sequence, id", parent_name="parent_id"),
    "helpdesk.ticket.channel": ModelMeta("Helpdesk Ticket Channel", "sequence, id"),
    "helpdesk.ticket.stage": ModelMeta("Helpdesk Ticket Stage", "sequence, id"),
    "helpdesk.ticket.tag": ModelMeta("Helpdesk Ticket Tag", "sequence, id"),
    "helpdesk.ticket.team": ModelMeta("Helpdesk Ticket Team", "sequence, id", parent_name="parent_id"),
    # Odoo Enterprise ``helpdesk`` (the sandbox's derived "enterprise" flavour, ``_flavours.py``)
    "helpdesk.stage": ModelMeta("Helpdesk Stage", "sequence, id"),
    "helpdesk.tag": ModelMeta("Helpdesk Tags", "name, id"),
    "helpdesk.team": ModelMeta("Helpdesk Team", "sequence, name, id"),
    "helpdesk.ticket.type": ModelMeta("Helpdesk Ticket Type", "sequence, name, id"),
    "mail.activity": ModelMeta("Activity", "date_deadline ASC, id ASC", rec_name="summary"),
    "mail.message": ModelMeta("Message", "id desc", rec_name="record_name"),
    "product.category": ModelMeta(
        "Product Category", "complete_name", rec_name="complete_name", parent_name="parent_id"
    ),
    "product.product": ModelMeta(
        "Product Variant",
        "default_code, name, id",
        rec_names_search=("default_code", "name", "barcode"),
        inherits=("product.template", "product_tmpl_id"),
    ),
    "product.template": ModelMeta("Product", "is_favorite desc, name, id", rec_names_search=("name", "default_code")),
    "purchase.order": ModelMeta("Purchase Order", "priority desc, id desc", rec_names_search=("name", "partner_ref")),
    "purchase.order.line": ModelMeta("Purchase Order Line", "order_id, sequence, id"),
    "res.company": ModelMeta("Companies", "sequence, name", parent_name="parent_id"),
    "res.partner": ModelMeta(
        "Contact",
        "complete_name ASC, id DESC",
        rec_name="complete_name",
        rec_names_search=("complete_name", "email", "ref", "vat", "company_registry"),
        parent_name="parent_id",
    ),
    "res.users": ModelMeta(
        "User", "name, login", rec_names_search=("name", "login"), inherits=("res.partner", "partner_id")
    ),
    "sale.order": ModelMeta("Sales Order", "date_order desc, id desc", rec_names_search=("name", "client_order_ref")),
    "sale.order.line": ModelMeta("Sales Order Line", "order_id, sequence, id"),
    "stock.location": ModelMeta(
        "Inventory Locations",
        "complete_name, id",
        rec_name="complete_name",
        rec_names_search=("complete_name", "barcode"),
        parent_name="location_id",
    ),
    "stock.move": ModelMeta("Stock Move", "sequence, id"),
    "stock.picking": ModelMeta(
        "Transfer", "priority desc, scheduled_date asc, id desc", rec_names_search=("name", "origin")
    ),
    "stock.picking.type": ModelMeta("Picking Type", "sequence, id", rec_names_search=("name", "warehouse_id.name")),
    "stock.quant": ModelMeta("Quants", "id"),
    "stock.warehouse": ModelMeta("Warehouse", "sequence, id", rec_names_search=("name", "code")),
    "uom.uom": ModelMeta("Product Unit of Measure", "factor DESC, id"),
}


def meta_for(model: str) -> ModelMeta:
    """The metadata of ``model`` (a generic default for models not in the table)."""
    return MODEL_META.get(model) or ModelMeta(model)


def _enterprise_ticket_name(get: RecordGetter, rec: Record) -> str:
    name = rec.get("name")
    ref = rec.get("ticket_ref")
    return f"{name} (#{ref})" if isinstance(name, str) and ref else str(name or "")


#: Enterprise ``helpdesk.ticket``: another ``_order``, searched by ``ticket_ref``, shown as "Subject (#11)".
ENTERPRISE_TICKET_META = ModelMeta(
    "Helpdesk Ticket",
    "priority desc, id desc",
    rec_names_search=("name", "ticket_ref"),
    display=_enterprise_ticket_name,
)


def _id(value: Any) -> int | None:
    if isinstance(value, list | tuple):
        return int(value[0]) if value else None
    if isinstance(value, int) and not isinstance(value, bool) and value:
        return value
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _rel(get: RecordGetter, model: str, value: Any) -> Record | None:
    rid = _id(value)
    return get(model, rid) if rid else None


def _product_name(get: RecordGetter, rec: Record) -> str:
    tmpl = _rel(get, "product.template", rec.get("product_tmpl_id")) or {}
    name = _text(tmpl.get("name"))
    code = _text(rec.get("default_code"))
    return f"[{code}] {name}" if code else name


def _category_name(get: RecordGetter, rec: Record) -> str:
    names = [_text(rec.get("name"))]
    seen = {rec.get("id")}
    parent = _rel(get, "helpdesk.ticket.category", rec.get("parent_id"))
    while parent and parent.get("id") not in seen:
        seen.add(parent.get("id"))
        names.append(_text(parent.get("name")))
        parent = _rel(get, "helpdesk.ticket.category", parent.get("parent_id"))
    return " / ".join(reversed(names))


def _picking_type_name(get: RecordGetter, rec: Record) -> str:
    warehouse = _rel(get, "stock.warehouse", rec.get("warehouse_id"))
    name = _text(rec.get("name"))
    return f"{_text(warehouse.get('name'))}: {name}" if warehouse else name


def _sale_line_name(get: RecordGetter, rec: Record) -> str:
    order = _rel(get, "sale.order", rec.get("order_id")) or {}
    first_line = _text(rec.get("name")).split("\n")[0]
    if not first_line:
        product = _rel(get, "product.product", rec.get("product_id"))
        first_line = _product_name(get, product) if product else ""
    name = f"{_text(order.get('name'))} - {first_line}"
    partner = _rel(get, "res.partner", rec.get("order_partner_id"))
    if partner:
        name += f" ({_text(partner.get('ref')) or _text(partner.get('name'))})"
    return name


def _stock_move_name(get: RecordGetter, rec: Record) -> str:
    picking = _rel(get, "stock.picking", rec.get("picking_id")) or {}
    product = _rel(get, "product.product", rec.get("product_id")) or {}
    src = _rel(get, "stock.location", rec.get("location_id")) or {}
    dst = _rel(get, "stock.location", rec.get("location_dest_id")) or {}
    origin = _text(picking.get("origin"))
    code = _text(product.get("default_code"))
    return "{}{}{}>{}".format(
        f"{origin}/" if origin else "", f"{code}: " if code else "", _text(src.get("name")), _text(dst.get("name"))
    )


_DRAFT_MOVE_PREFIX = {
    "out_invoice": "Draft Invoice",
    "out_refund": "Draft Credit Note",
    "in_invoice": "Draft Bill",
    "in_refund": "Draft Vendor Credit Note",
    "out_receipt": "Draft Sales Receipt",
    "in_receipt": "Draft Purchase Receipt",
    "entry": "Draft Entry",
}


def _account_move_name(get: RecordGetter, rec: Record) -> str:
    name = ""
    if rec.get("state") == "draft":
        name = _DRAFT_MOVE_PREFIX.get(_text(rec.get("move_type")), "Draft Entry") + " "
    own = _text(rec.get("name"))
    name += own if own and own != "/" else f"(* {rec.get('id')})"
    ref = _text(rec.get("ref"))
    if ref:
        name += f" ({ref if len(ref) <= 50 else ref[:46] + ' [...]'})"
    return name


def _quant_name(get: RecordGetter, rec: Record) -> str:
    location = _rel(get, "stock.location", rec.get("location_id")) or {}
    return _text(location.get("complete_name"))


_RULES: dict[str, Callable[[RecordGetter, Record], str]] = {
    "account.move": _account_move_name,
    "helpdesk.ticket": lambda get, rec: f"{_text(rec.get('number'))} - {_text(rec.get('name'))}",
    "helpdesk.ticket.category": _category_name,
    "product.product": _product_name,
    "product.template": lambda get, rec: (
        f"[{rec['default_code']}] {_text(rec.get('name'))}"
        if _text(rec.get("default_code"))
        else _text(rec.get("name"))
    ),
    "res.users": lambda get, rec: _text((_rel(get, "res.partner", rec.get("partner_id")) or {}).get("name")),
    "sale.order.line": _sale_line_name,
    "stock.move": _stock_move_name,
    "stock.picking.type": _picking_type_name,
    "stock.quant": _quant_name,
}


def compute_display_name(
    get: RecordGetter, label: LabelGetter, model: str, rec: Record, meta: ModelMeta | None = None
) -> str | bool:
    """Odoo 18's ``display_name`` of ``rec`` (False when its ``_rec_name`` field is empty).

    ``meta`` is the model's metadata in the serving dataset (default: ``meta_for(model)``).
    """
    meta = meta or meta_for(model)
    rule = meta.display or _RULES.get(model)
    if rule:
        return rule(get, rec)
    value = rec.get(meta.rec_name)
    if not value and model == "mail.activity":
        type_id = _id(rec.get("activity_type_id"))
        value = label("mail.activity.type", type_id) if type_id else False
    return value if isinstance(value, str) else False
