"""The parts of an inbound email that the input checks read: all of it, not only the visible body.

The subject and the sender's display name reach the prompts and the people who read a summary; quoted text and
attachments are read by the same people and by any model that sees the thread. Each of them can carry
instructions to the assistant or a bank-detail change, so the injection and bank-change checks read them all.
Hidden content (``InboundEmail.hidden_text``) is checked on its own, with the stricter hidden-text rules.
"""

from __future__ import annotations

from copilot.inbound_email import InboundEmail

__all__ = ["message_context", "message_text"]


def message_context(mail: InboundEmail) -> str:
    """The parts besides subject and body: the sender's display name, quoted text and attachments' text."""
    parts = [mail.from_name or "", mail.quoted_text, *(a.text for a in mail.attachments if a.text)]
    return "\n\n".join(part for part in parts if part.strip())


def message_text(mail: InboundEmail) -> str:
    """Subject, the sender's display name, body, quoted text and attachments' text, one part per paragraph."""
    parts = [mail.subject, mail.text, message_context(mail)]
    return "\n\n".join(part for part in parts if part.strip())
