"""Chatter messages of a record, such as the supplier emails on a purchase order."""

from __future__ import annotations

from collections.abc import Sequence

from copilot.citations import Citation
from copilot.tools import _values as v
from copilot.tools.odoo import OdooClient
from copilot.tools.schemas import ChatterMessage

__all__ = ["get_chatter_messages", "recent_emails"]

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
