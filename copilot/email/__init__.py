"""Inbound email, the lowest layer the skills read: the model, MIME, HTML, quoting, forwards, sender authentication.

``parse_email`` reads an RFC 822 message and never crashes on bad input; ``InboundEmail`` carries everything
the channels and skills need (threading headers, ``Auto-Submitted``, report types) so nothing re-parses raw
bytes. This package imports no skill, tool, channel or heavy dependency (an import-linter contract).
"""

from copilot.email.html import html_comment_text, html_to_text
from copilot.email.limits import MAX_MIME_PARTS, MAX_TEXT_CHARS
from copilot.email.message import Attachment, InboundEmail
from copilot.email.mime import parse_email
from copilot.email.quoting import split_quoted

__all__ = [
    "MAX_MIME_PARTS",
    "MAX_TEXT_CHARS",
    "Attachment",
    "InboundEmail",
    "html_comment_text",
    "html_to_text",
    "parse_email",
    "split_quoted",
]
