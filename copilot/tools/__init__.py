"""Read-only Odoo tools over one allow-listed client; approvals are the only writer."""

from copilot.odoo import READ_METHODS, OdooClient, OdooRPCTransport, OdooTransport, check_allowed
from copilot.tools.chatter import get_chatter_messages, recent_emails
from copilot.tools.partner import find_partners, get_partner_contacts
from copilot.tools.purchase import get_purchase_orders, late_purchase_orders, purchase_order_status
from copilot.tools.sale import sale_order_status
from copilot.tools.stock import product_availability

__all__ = [
    "READ_METHODS",
    "OdooClient",
    "OdooRPCTransport",
    "OdooTransport",
    "check_allowed",
    "find_partners",
    "get_chatter_messages",
    "get_partner_contacts",
    "get_purchase_orders",
    "late_purchase_orders",
    "product_availability",
    "purchase_order_status",
    "recent_emails",
    "sale_order_status",
]
