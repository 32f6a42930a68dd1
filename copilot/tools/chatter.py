"""Chatter messages of a record, such as the supplier emails on a purchase order."""

from __future__ import annotations

import email.utils
from collections.abc import Sequence

from copilot.citations import Citation
from copilot.email import InboundEmail
from copilot.email.body import clean_line, convert_body
from copilot.odoo import OdooClient
from copilot.tools import _values as v
from copilot.tools.schemas import ChatterMessage

__all__ = ["email_from_chatter", "get_chatter_messages", "recent_emails"]

MESSAGE_FIELDS = [
    "date",
    "author_id",
    "email_from",
    "subject",
    "body",
    "message_type",
    "message_id",
    "model",
    "res_id",
    "record_name",
]


def _message(row: dict) -> ChatterMessage:
    date = v.when(row["date"])
    assert date is not None
    label = v.text(row["subject"]) or f"message {row['id']}"
    return ChatterMessage(
        id=row["id"],
        date=date,
        author=v.ref(row["author_id"]),
        email_from=v.text(row["email_from"]),
        subject=v.text(row["subject"]),
        body_html=v.text(row["body"]) or "",
        message_type=row["message_type"],
        message_id=v.text(row["message_id"]),
        model=row["model"],
        res_id=int(row["res_id"]),
        record_name=v.text(row["record_name"]),
        citation=Citation(model="mail.message", id=row["id"], display_name=label),
    )


def get_chatter_messages(
    client: OdooClient,
    model: str,
    res_id: int,
    *,
    message_types: Sequence[str] = ("email",),
    limit: int = 50,
) -> list[ChatterMessage]:
    """The record's messages of these types, oldest first (one round trip)."""
    domain = [("model", "=", model), ("res_id", "=", res_id), ("message_type", "in", list(message_types))]
    rows = client.search_read("mail.message", domain, MESSAGE_FIELDS, order="date asc, id asc", limit=limit)
    return [_message(r) for r in rows]


def recent_emails(client: OdooClient, model: str = "purchase.order", *, limit: int = 100) -> list[ChatterMessage]:
    """Incoming emails logged on any record of ``model``, oldest first (one round trip)."""
    domain = [("model", "=", model), ("message_type", "=", "email")]
    rows = client.search_read("mail.message", domain, MESSAGE_FIELDS, order="date asc, id asc", limit=limit)
    return [_message(r) for r in rows]


def email_from_chatter(msg: ChatterMessage) -> InboundEmail:
    """An email built from an Odoo chatter message (its body is HTML), for the skills that read mail."""
    name, address = email.utils.parseaddr(msg.email_from or "")
    body = convert_body(msg.body_html or "", is_html=True, subject=msg.subject or "")
    thread = None
    if msg.res_id:
        thread = Citation(model=msg.model, id=msg.res_id, display_name=msg.record_name or f"{msg.model},{msg.res_id}")
    return InboundEmail(
        message_id=(msg.message_id or "").strip() or None,
        from_name=name or None,
        from_address=address.lower() if "@" in address else None,
        subject=clean_line(msg.subject or ""),
        date=msg.date,
        source=msg.citation,
        thread=thread,
        author=msg.author,
        **body,
    )
