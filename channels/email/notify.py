"""The email channel's own rendering: an answer to a staff question as a plain-text email body.

Where the mailbox's other results go (Slack, the outbox) is the injected ``copilot.application.ResultNotifier``;
``Outbox`` and ``Delivery`` live in ``copilot.application`` and are re-exported here for the email channel's users.
"""

from __future__ import annotations

from copilot.application import Delivery, Outbox, OutboxNotifier
from copilot.application.outbox import OutboxRow
from copilot.citations import record_url
from copilot.config import Settings
from copilot.skills.answer import Answer

__all__ = ["Delivery", "Outbox", "OutboxNotifier", "OutboxRow", "render_answer_text"]


def render_answer_text(settings: Settings, answer: Answer) -> str:
    """The body of an email answer: the answer, then its sources (with links when an Odoo URL is set)."""
    odoo_url = str(settings.odoo_url) if settings.odoo_url is not None else None
    lines = [answer.text.strip(), ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            url = record_url(odoo_url, c.model, c.id)
            lines.append(f"- {c.display_name} ({c.model} {c.id})" + (f" {url}" if url else ""))
        lines.append("")
    lines.append("-- \nOdoo Ops Copilot: answered from Odoo; reply to this email to ask a follow-up.")
    return "\n".join(lines)
