"""The parts of an inbound email that the input checks read: all of it, not only the visible body.

The subject and the sender's display name reach the prompts and the people who read a summary; quoted text and
attachments are read by the same people and by any model that sees the thread. Each of them can carry
instructions to the assistant or a bank-detail change, so the injection and bank-change checks read them all.
Hidden content (``InboundEmail.hidden_text``) is checked on its own, with the stricter hidden-text rules, and
reported only when it matters (``hidden_content_matters``). The subject and the display name are also checked on
their own as header text (``header_text``), where a claim of approval flags.
"""

from __future__ import annotations

from copilot.email import InboundEmail
from copilot.guardrails.hidden import hidden_text_matters
from copilot.guardrails.screening import UntrustedText

__all__ = ["header_text", "hidden_content_matters", "message_context", "message_text", "untrusted_texts"]

#: Hidden-content reasons of the text itself (characters hidden inside visible words), always worth a warning.
_CHARACTER_TRICKS = ("zero-width", "Unicode tag")


def header_text(mail: InboundEmail) -> str:
    """The subject and the sender's display name, one per line: text no legitimate sender fills with approvals."""
    return "\n".join(part for part in (mail.subject, mail.from_name or "") if part.strip())


def hidden_content_matters(mail: InboundEmail) -> bool:
    """True when the email hides characters inside its visible text, or hides content that the visible text does
    not carry (a price, date, reference, bank or approval wording); newsletter preheaders and spacers do not."""
    if any(trick in reason for reason in mail.hidden_reasons for trick in _CHARACTER_TRICKS):
        return True
    return bool(mail.hidden_text.strip()) and hidden_text_matters(mail.hidden_text, message_text(mail))


def message_context(mail: InboundEmail) -> str:
    """The parts besides subject and body: the sender's display name, quoted text and attachments' text."""
    parts = [mail.from_name or "", mail.quoted_text, *(a.text for a in mail.attachments if a.text)]
    return "\n\n".join(part for part in parts if part.strip())


def message_text(mail: InboundEmail) -> str:
    """Subject, the sender's display name, body, quoted text and attachments' text, one part per paragraph."""
    parts = [mail.subject, mail.text, message_context(mail)]
    return "\n\n".join(part for part in parts if part.strip())


def untrusted_texts(mail: InboundEmail) -> list[UntrustedText]:
    """What the injection check reads of an email: the whole message, its header text, its hidden text (if any)."""
    texts = [
        UntrustedText(source="email", text=message_text(mail)),
        UntrustedText(source="email_header", text=header_text(mail)),
    ]
    if mail.hidden_text.strip():
        texts.append(UntrustedText(source="email_hidden", text=mail.hidden_text))
    return texts
