"""The normalised email the skills read: headers, readable text, quoted and hidden content kept apart.

Everything in it is untrusted data from outside; ``copilot.email.mime.parse_email`` builds it from raw bytes
and ``copilot.tools.chatter`` from an Odoo chatter message.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.citations import Citation, Ref

__all__ = ["Attachment", "Cell", "InboundEmail", "Table", "TableRow"]


#: One table cell: text as written (PDF, CSV), or the typed value of a spreadsheet cell.
Cell = str | float | date | None


class TableRow(BaseModel):
    """One row of an attachment's table, numbered as a reader of the file counts it (header included)."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1, description="Spreadsheet row, CSV record, or row of the PDF table (1 = its first)")
    cells: list[Cell] = Field(default_factory=list)


class Table(BaseModel):
    """A table read from an attachment (untrusted data, like the body): where it was, its rows, how numbers look."""

    model_config = ConfigDict(frozen=True)

    where: str = Field(default="", description="'page 1', 'sheet Lines', or '' for a CSV file")
    rows: list[TableRow] = Field(default_factory=list)
    context: str = Field(default="", description="Text around the table (a PDF page's text), bounded")
    decimal_comma: bool = Field(default=False, description="Numbers written as text use a decimal comma (12,50)")


class Attachment(BaseModel):
    """An attachment's metadata, its readable text (only for checks), and the tables of a PDF, XLSX or CSV file."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    content_type: str = "application/octet-stream"
    size: int = Field(default=0, ge=0, description="Decoded size in bytes")
    text: str = Field(
        default="",
        description="Readable text of a text/* or PDF attachment, at most 20,000 characters (only for checks)",
    )
    tables: list[Table] = Field(
        default_factory=list, description="Tables of a PDF, XLSX or CSV attachment (bounded: copilot.email.limits)"
    )


class InboundEmail(BaseModel):
    """One email, normalised for the skills. Everything in it is untrusted data from outside."""

    model_config = ConfigDict(frozen=True)

    message_id: str | None = None
    from_name: str | None = None
    from_address: str | None = None
    reply_to: list[str] = Field(default_factory=list)
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    subject: str = ""
    date: datetime | None = Field(default=None, description="Sent date, aware UTC")
    text: str = Field(default="", description="Readable body without quoted replies or hidden content")
    quoted_text: str = Field(default="", description="Quoted earlier messages (blockquote, '>' lines, 'On ... wrote:')")
    hidden_text: str = Field(default="", description="Content hidden from a human reader (kept only to flag it)")
    hidden_reasons: list[str] = Field(default_factory=list, description="How content was hidden")
    forwarded: bool = False
    forwarded_from: str | None = Field(
        default=None,
        description="Address a forwarded block in the body names as its sender: text written by whoever sent the "
        "email, never proof of who wrote it (trusted only when the outer sender is authenticated staff)",
    )
    authentication_results: list[str] = Field(
        default_factory=list,
        description="Raw Authentication-Results headers, topmost first (at most 20): who added each is checked "
        "by copilot.mail_auth against the trusted authserv-ids",
    )
    in_reply_to: str | None = Field(default=None, description="The In-Reply-To header: the message this answers")
    references: str = Field(default="", description="The References header as sent (the thread's message ids)")
    auto_submitted: str | None = Field(
        default=None, description="The Auto-Submitted header, lower case (RFC 3834: auto-replied, auto-generated)"
    )
    content_type: str = Field(
        default="text/plain", description="The top-level MIME type, lower case (multipart/report for bounces)"
    )
    report_type: str | None = Field(
        default=None, description="report-type of a multipart/report (delivery-status, disposition-notification)"
    )
    attachments: list[Attachment] = Field(default_factory=list)
    defects: list[str] = Field(default_factory=list, description="Problems found while parsing")
    source: Citation | None = Field(default=None, description="The Odoo chatter message, when read from Odoo")
    thread: Citation | None = Field(default=None, description="The Odoo record the message is posted on")
    author: Ref | None = Field(default=None, description="Odoo's author of the chatter message (not proof of identity)")

    @field_validator("date")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def from_domain(self) -> str | None:
        """The sender's domain, lower case (``example.com``)."""
        return _domain(self.from_address)

    @property
    def is_automatic(self) -> bool:
        """A bounce, read receipt or auto-reply (RFC 3834 / RFC 6522): never answered, never a supplier's word."""
        return self.content_type == "multipart/report" or (self.auto_submitted or "no") != "no"


def _domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().strip(">").lower() or None
