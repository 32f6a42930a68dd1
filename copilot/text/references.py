"""Odoo document references as Odoo numbers them by default.

A sequence's padding is a minimum: purchase order 100,000 is ``P100000``, so each number is "at least five
digits" (four for the running number of a journal entry or a transfer). Vendor bills may be numbered per month
(``BILL/2026/12/0001``) and refunds carry an ``R`` (``RINV/...``, ``RBILL/...``).
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_PO_PATTERN",
    "DOCUMENT_REF",
    "ORDER_REF",
    "PO_REF",
    "PRODUCT_CODE",
    "SO_REF",
    "TICKET_REF",
    "is_document_reference",
    "is_order_reference",
    "product_code",
    "without_product_code",
]

#: A purchase order (``P00012``); the pattern a company may override for supplier email.
DEFAULT_PO_PATTERN = r"\bP\d{5,}\b"
_SO = r"S\d{5,}"
_TICKET = r"HT\d{5,}"
_ENTRY = r"R?(?:INV|BILL)/\d{4}/(?:\d{2}/)?\d{4,}"
_TRANSFER = r"WH/(?:IN|OUT|INT|PICK|PACK|RET)/\d{4,}"

PO_REF = re.compile(DEFAULT_PO_PATTERN, re.IGNORECASE)
SO_REF = re.compile(rf"\b{_SO}\b", re.IGNORECASE)
#: A helpdesk ticket (``HT00011``, the OCA helpdesk's number).
TICKET_REF = re.compile(rf"\b{_TICKET}\b", re.IGNORECASE)
#: A sale or purchase order.
ORDER_REF = re.compile(r"\b[PS]\d{5,}\b", re.IGNORECASE)
#: Any document a message may name: orders, tickets, invoices and bills, transfers.
DOCUMENT_REF = re.compile(rf"\b(?:[PS]\d{{5,}}|{_TICKET}|{_ENTRY}|{_TRANSFER})\b", re.IGNORECASE)
#: The internal reference in a product's display name: ``[DESK-01] Office desk``.
PRODUCT_CODE = re.compile(r"^\[(?P<code>[^\]]+)\]\s*")


def is_order_reference(token: str) -> bool:
    """True when ``token`` is exactly a sale or purchase order name (``P00012``, ``s00024``)."""
    return ORDER_REF.fullmatch(token.strip()) is not None


def is_document_reference(token: str) -> bool:
    """True when ``token`` is exactly the name of an order, ticket, invoice, bill or transfer."""
    return DOCUMENT_REF.fullmatch(token.strip()) is not None


def product_code(display_name: str | None) -> str | None:
    """The internal reference in ``[CODE] Name``, if any."""
    match = PRODUCT_CODE.match(display_name or "")
    return match.group("code") if match else None


def without_product_code(display_name: str) -> str:
    """``[DESK-01] Office desk`` as ``Office desk``."""
    return PRODUCT_CODE.sub("", display_name, count=1)
